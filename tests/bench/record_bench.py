#!/usr/bin/python3
"""Recording benchmark: events per second without loss, CPU of the appliance, event → journal latency.

Starts its own Xvfb and the published appliance (out/sandbox), injects input through XTest with
python3-xlib (independent of our code), and counts what reached the journal (recordings/events-*.jsonl).
Prints figures; never fails on time (exit 0 unless something functional broke, e.g. a lost event).

Usage: tests/bench/record_bench.py [--binary out/sandbox] [--events 20000] [--rates 1000,2000,5000,10000,0]
       (rate 0 = as fast as the injector can send). Needs: Xvfb, python3-xlib, python3-requests, ffmpeg.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import requests
from Xlib import X, XK, display as xdisplay
from Xlib.ext import xtest
from benchlib import free_port, start_xvfb

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
TICK = os.sysconf("SC_CLK_TCK")




def start_appliance(binary, disp, shared):
    port = free_port()
    env = {**os.environ, "DISPLAY": disp, "HOST": "127.0.0.1", "PORT": str(port), "SHARED_DIR": shared,
           "JUPYTER_KERNEL_GATEWAY_APP_HOST": "127.0.0.1", "JUPYTER_KERNEL_GATEWAY_APP_PORT": str(free_port()),
           "KG_PRESPAWN_COUNT": "0", "SANDBOX_RECORD_MOTION_MS": "0", "Logging__LogLevel__Default": "Warning"}
    env.pop("XAUTHORITY", None)
    p = subprocess.Popen([binary], env=env, cwd=shared, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(3000):
        if p.poll() is not None:
            raise RuntimeError(f"the appliance exited with {p.returncode}")
        try:
            if requests.get(url + "/health", timeout=1).status_code == 200:
                return p, url
        except requests.RequestException:
            pass
        time.sleep(0.01)
    raise RuntimeError("the appliance did not answer /health")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK   # utime + stime


def cpu_percent(pid, seconds):
    c0, t0 = cpu_seconds(pid), time.perf_counter()
    time.sleep(seconds)
    return 100.0 * (cpu_seconds(pid) - c0) / (time.perf_counter() - t0)


def find_ffmpeg(output):
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/cmdline", "rb") as f:
                args = f.read().split(b"\0")
            if os.path.basename(args[0]) == b"ffmpeg" and output.encode() in args:
                return int(d)
        except OSError:
            pass
    return None


def record(url, query):
    return requests.get(f"{url}/record?mode=start&{query}", timeout=30).json()


def stop(url):
    return requests.get(f"{url}/record?mode=stop", timeout=60).json()


def count_events(path):
    with open(path, "rb") as f:
        return sum(1 for line in f if line.startswith(b'{"seq"'))


def inject(d, keycode, total, rate):
    """Key press/release pairs alternating with pointer motion; `total` events at `rate` per second (0: flat out)."""
    sent = 0
    chunk = max(2, int(rate * 0.002)) if rate else 200
    t0 = time.perf_counter()
    while sent < total:
        n = min(chunk, total - sent)
        for i in range(n):
            k = sent + i
            if k % 4 == 0:
                xtest.fake_input(d, X.KeyPress, keycode)
            elif k % 4 == 1:
                xtest.fake_input(d, X.KeyRelease, keycode)
            else:
                xtest.fake_input(d, X.MotionNotify, x=100 + (k % 800), y=100 + (k % 600))
        sent += n
        d.flush()
        if rate:
            due = t0 + sent / rate
            while time.perf_counter() < due:
                time.sleep(max(0, min(0.001, due - time.perf_counter())))
    d.sync()
    return sent / (time.perf_counter() - t0)


LISTENER = """
from Xlib import X, display
d = display.Display()
d.screen().root.change_attributes(event_mask=X.KeyPressMask | X.KeyReleaseMask)
d.sync()
print("ready", flush=True)
while True:
    d.next_event()
"""


def start_listener(disp):
    """A client that selects key events on the root window, like a focused application would receive them."""
    p = subprocess.Popen(["/usr/bin/python3", "-c", LISTENER], env={**os.environ, "DISPLAY": disp}, stdout=subprocess.PIPE)
    p.stdout.readline()
    return p


def measure_latency(url, shared, d, keycode, samples):
    r = record(url, "video=false")
    journal = os.path.join(shared, r["events_file"])
    lat, timeouts = [], 0
    with open(journal, "rb") as f:
        f.seek(0, os.SEEK_END)
        for i in range(samples):
            t0 = time.perf_counter()
            xtest.fake_input(d, X.KeyPress if i % 2 == 0 else X.KeyRelease, keycode)
            d.flush()
            buf = b""
            while not buf.endswith(b"\n"):
                buf += f.read()
                if time.perf_counter() - t0 > 5:
                    timeouts += 1
                    break
            lat.append((time.perf_counter() - t0) * 1000)
            time.sleep(0.005)
    stop(url)
    return lat, timeouts


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=os.path.join(ROOT, "out", "sandbox"))
    ap.add_argument("--events", type=int, default=20000)
    ap.add_argument("--rates", default="1000,2000,5000,10000,0")
    ap.add_argument("--latency-samples", type=int, default=300)
    ap.add_argument("--idle-seconds", type=float, default=10)
    args = ap.parse_args()
    sys.stdout.reconfigure(line_buffering=True)
    if not os.path.exists(args.binary):
        sys.exit(f"missing {args.binary}: run ./build-aot.sh")

    xvfb, disp = start_xvfb()
    shared = tempfile.mkdtemp(prefix="record-bench-")
    app, url = start_appliance(args.binary, disp, shared)
    ok = True
    try:
        d = xdisplay.Display(disp)
        keycode = d.keysym_to_keycode(XK.string_to_keysym("F13")) or d.keysym_to_keycode(XK.string_to_keysym("a"))
        print(f"display {disp}, appliance pid {app.pid}, {os.cpu_count()} cores")

        # CPU while idle: not recording, recording actions only, recording with video (ffmpeg measured apart).
        print(f"\nCPU, % of one core, over {args.idle_seconds:.0f} s with no input")
        print(f"  appliance, not recording:            {cpu_percent(app.pid, args.idle_seconds):6.2f}")
        r = record(url, "video=false")
        print(f"  appliance, recording actions only:   {cpu_percent(app.pid, args.idle_seconds):6.2f}")
        stop(url)
        r = record(url, "fps=10")
        ff = find_ffmpeg(os.path.join(shared, r["screen_recording_file"])) if r.get("screen_recording_file") else None
        c_app0, c_ff0, t0 = cpu_seconds(app.pid), cpu_seconds(ff) if ff else 0, time.perf_counter()
        time.sleep(args.idle_seconds)
        dt = time.perf_counter() - t0
        app_pct = 100 * (cpu_seconds(app.pid) - c_app0) / dt
        ff_pct = 100 * (cpu_seconds(ff) - c_ff0) / dt if ff else float("nan")
        print(f"  appliance, recording with 10 fps video: {app_pct:6.2f}   (ffmpeg {r.get('codec')}: {ff_pct:.1f})")
        stop(url)

        # Throughput: every injected event must be in the journal.
        print(f"\nsustained input, {args.events} XTest events per run (key press/release + motion), journal checked")
        print(f"  {'asked/s':>9} {'sent/s':>9} {'journaled':>10} {'lost':>6} {'appliance CPU %':>16}")
        for rate in [int(x) for x in args.rates.split(",")]:
            r = record(url, "video=false")
            journal = os.path.join(shared, r["events_file"])
            c0, t0 = cpu_seconds(app.pid), time.perf_counter()
            sent_rate = inject(d, keycode, args.events, rate)
            deadline = time.perf_counter() + 30
            while count_events(journal) < args.events and time.perf_counter() < deadline:
                time.sleep(0.01)
            cpu = 100 * (cpu_seconds(app.pid) - c0) / (time.perf_counter() - t0)
            s = stop(url)
            got = count_events(journal)
            lost = args.events - got
            ok &= lost == 0 and s["num_events"] == got
            print(f"  {rate or 'max':>9} {sent_rate:9.0f} {got:10d} {lost:6d} {cpu:16.1f}")

        # Latency: one key event, then watch the journal file until its line is there. Twice: on the bare
        # display (nobody receives the input, so the recorder's periodic flush request decides), and with an
        # application receiving key events on the root window, as on a desktop (the server flushes at once).
        for label, with_listener in (("quiet display, no application receives the input", False),
                                     ("an application receives the input (desktop case)", True)):
            listener = start_listener(disp) if with_listener else None
            lat, timeouts = measure_latency(url, shared, d, keycode, args.latency_samples)
            if listener:
                listener.kill()
                listener.wait()
            ok &= timeouts == 0
            lat.sort()
            q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))]
            print(f"\nXTest event → line in the journal, {label}; {len(lat)} samples, ms")
            print(f"  median {statistics.median(lat):.3f}   p95 {q(0.95):.3f}   p99 {q(0.99):.3f}   max {lat[-1]:.3f}")
    finally:
        app.terminate()
        app.wait(20)
        xvfb.kill()
        xvfb.wait()
        shutil.rmtree(shared, ignore_errors=True)
    if not ok:
        print("\nFAILED: events were lost or never reached the journal")
        sys.exit(1)


if __name__ == "__main__":
    main()
