#!/usr/bin/python3
"""Live view stream benchmark: the published appliance on a 1920x1080 Xvfb, one WebSocket viewer.

Prints (never fails on time):
  - the appliance's CPU use (% of one core) while the screen is still and while it changes every tick,
  - how long after a change on the screen its frame arrives at the viewer (change -> frame latency),
  - frame sizes and server-side encode times.
Usage: tests/bench/liveview_bench.py [--seconds 10] [--fps 10] [--scene office.png] [--binary out/sandbox]
Needs: Xvfb, python3-websocket, python3-xlib, python3-requests.
"""
import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import tempfile
import threading
import time

import requests
import websocket
from Xlib import X, display as xdisplay
from benchlib import free_port, start_xvfb

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
SCENES = os.environ.get("SANDBOX_SCENES") or os.path.join(ROOT, "tests", "fixtures")
PY = "/usr/bin/python3"
TICKS = os.sysconf("SC_CLK_TCK")




def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


class Viewer:
    """A WebSocket viewer that records when each frame's JPEG arrived."""

    def __init__(self, url):
        self.ws = websocket.create_connection(url, timeout=30)
        self.frames = []  # (arrival time.time(), meta)
        self.lock = threading.Condition()
        self.meta = None
        self.hello = json.loads(self.ws.recv())
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        try:
            while True:
                op, data = self.ws.recv_data()
                now = time.time()
                if op == websocket.ABNF.OPCODE_TEXT:
                    m = json.loads(data)
                    if m["type"] == "frame":
                        self.meta = m
                elif op == websocket.ABNF.OPCODE_BINARY and self.meta is not None:
                    with self.lock:
                        self.frames.append((now, self.meta))
                        self.lock.notify_all()
                    self.meta = None
        except (websocket.WebSocketException, OSError):
            pass

    def wait_after(self, t, timeout=5.0):
        deadline = time.time() + timeout
        with self.lock:
            while True:
                for arrived, meta in self.frames:
                    if arrived >= t and meta["captured_ms"] / 1000 >= t:
                        return arrived, meta
                left = deadline - time.time()
                if left <= 0:
                    return None
                self.lock.wait(left)

    def close(self):
        self.ws.close()


def measure_cpu(pid, seconds, during=None):
    stop = threading.Event()
    t = threading.Thread(target=during, args=(stop,), daemon=True) if during else None
    if t:
        t.start()
    c0, w0 = cpu_seconds(pid), time.perf_counter()
    time.sleep(seconds)
    c1, w1 = cpu_seconds(pid), time.perf_counter()
    stop.set()
    if t:
        t.join()
    return 100.0 * (c1 - c0) / (w1 - w0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--fps", type=int, default=10)
    ap.add_argument("--scene", default="office.png")
    ap.add_argument("--latency-samples", type=int, default=30)
    ap.add_argument("--binary", default=os.environ.get("SANDBOX_BINARY") or os.path.join(ROOT, "out", "sandbox"))
    a = ap.parse_args()
    a.binary = os.path.abspath(a.binary)

    xvfb, disp = start_xvfb()
    shared = tempfile.mkdtemp(prefix="liveview-bench-")
    app = None
    try:
        subprocess.run([PY, os.path.join(ROOT, "tests", "Shared", "paint_root.py"), os.path.join(SCENES, a.scene)],
                       env={**os.environ, "DISPLAY": disp}, check=True)
        port = free_port()
        env = {**os.environ, "DISPLAY": disp, "HOST": "127.0.0.1", "PORT": str(port), "SHARED_DIR": shared,
               "JUPYTER_KERNEL_GATEWAY_APP_HOST": "127.0.0.1", "JUPYTER_KERNEL_GATEWAY_APP_PORT": str(free_port()),
               "KG_PRESPAWN_COUNT": "0", "SANDBOX_VIEW_FPS": str(a.fps), "Logging__LogLevel__Default": "Warning"}
        app = subprocess.Popen([a.binary], env=env, cwd=shared, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        for _ in range(600):
            try:
                if requests.get(base + "/health", timeout=1).ok:
                    break
            except requests.RequestException:
                time.sleep(0.05)

        x = xdisplay.Display(disp)
        root = x.screen().root
        gc = root.create_gc()

        def change(i):
            # A 400x300 "window" in a new colour at a new place, and the pointer moved: a real change every call.
            gc.change(foreground=random.randrange(0xFFFFFF))
            root.fill_rectangle(gc, 100 + (i * 37) % 1200, 100 + (i * 53) % 600, 400, 300)
            root.warp_pointer(200 + (i * 71) % 1500, 200 + (i * 29) % 700)
            x.sync()

        idle_no_viewer = measure_cpu(app.pid, min(a.seconds, 5))
        viewer = Viewer(f"ws://127.0.0.1:{port}/view/stream")
        time.sleep(1.0)
        still = measure_cpu(app.pid, a.seconds)
        frames_still = len(viewer.frames)

        counter = [0]

        def changing(stop):
            period = 1.0 / (2 * a.fps)   # twice the stream rate: every stream tick sees a change
            while not stop.is_set():
                counter[0] += 1
                change(counter[0])
                time.sleep(period)

        n0 = len(viewer.frames)
        busy = measure_cpu(app.pid, a.seconds, changing)
        sent = len(viewer.frames) - n0
        status = requests.get(base + "/view/status").json()

        # Latency: change once, wait for the frame that shows it (captured after the change).
        time.sleep(0.5)
        lat = []
        for i in range(a.latency_samples):
            time.sleep(0.05 + random.random() * (1.0 / a.fps))   # land anywhere in the tick
            t = time.time()
            change(10_000 + i)
            got = viewer.wait_after(t)
            if got:
                lat.append((got[0] - t) * 1000)
        viewer.close()

        sizes = [m["bytes"] for _, m in viewer.frames[n0:]]
        enc = [m["encode_ms"] for _, m in viewer.frames[n0:]]
        print(f"live view stream, {a.scene} 1920x1080, SANDBOX_VIEW_FPS={a.fps}, encoder {status['encoder']}, {os.cpu_count()} cores")
        print(f"  CPU, no viewer:                 {idle_no_viewer:6.1f} % of one core")
        print(f"  CPU, one viewer, still screen:  {still:6.1f} % of one core  ({frames_still} frame(s) sent: the first only)")
        print(f"  CPU, one viewer, changing:      {busy:6.1f} % of one core  ({sent / a.seconds:.1f} frames/s sent)")
        if sizes:
            print(f"  frame: median {statistics.median(sizes) / 1024:.0f} KB, encode median {statistics.median(enc):.1f} ms (scale+JPEG, server side)")
        if lat:
            lat.sort()
            p90 = lat[int(len(lat) * 0.9) - 1] if len(lat) >= 10 else lat[-1]
            print(f"  change -> frame at the viewer:  median {statistics.median(lat):.0f} ms, p90 {p90:.0f} ms, "
                  f"max {lat[-1]:.0f} ms over {len(lat)} changes 50-150 ms apart (a change sooner than {1000 / a.fps:.0f} ms after the last frame waits for the frame interval)")
        print(f"  load average now: {os.getloadavg()[0]:.1f} (figures on a busy machine are upper bounds)")
    finally:
        if app:
            app.terminate()
            try:
                app.wait(10)
            except subprocess.TimeoutExpired:
                app.kill()
        xvfb.kill()
        shutil.rmtree(shared, ignore_errors=True)


if __name__ == "__main__":
    main()
