#!/usr/bin/python3
"""Trajectory benchmark: what journaling a step costs an agent, same run, same Xvfb (office scene, 1920x1080).

  no recording            POST /computer/action (mouse_move), no recording running
  recording, no steps     the same while a recording runs with SANDBOX_RECORD_MAX_STEPS=0 (trajectories off)
  recording + trajectory  the same with trajectories on: each answer waits for the step's PNG and line
  action + /screenshot    reference: what an OSWorld-style harness does per step without us, the action and then
                          GET /screenshot?annotate=false&response=image (bytes to the client, which writes the file)

Also prints the appliance's RSS before and after the steps (memory stays flat: PNGs go to disk) and the bytes
per step on disk. Prints medians, p90 and ratios; never fails on time.
Usage: tests/bench/trajectory_bench.py [--steps 300] [--binary out/sandbox]
Needs: Xvfb, python3-xlib (to paint the scene).
"""
import argparse
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from benchlib import free_port, start_xvfb, paint, ROOT, rss_kb


def start_appliance(binary, display, extra):
    shared = tempfile.mkdtemp(prefix="traj-bench-")
    port = free_port()
    env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(port), "SHARED_DIR": shared, "DISPLAY": display,
           "JUPYTER_KERNEL_GATEWAY_APP_HOST": "127.0.0.1", "JUPYTER_KERNEL_GATEWAY_APP_PORT": str(free_port()),
           "KG_PRESPAWN_COUNT": "0", "SANDBOX_MCP": "false", **extra}
    env.pop("XAUTHORITY", None)
    p = subprocess.Popen([binary], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=shared)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    deadline = time.time() + 30
    while True:
        try:
            conn.request("GET", "/health")
            r = conn.getresponse()
            r.read()
            if r.status == 200:
                break
        except OSError:
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        if time.time() > deadline:
            raise RuntimeError("appliance did not start")
        time.sleep(0.05)
    return p, conn, shared


def call(conn, method, path, body=None):
    headers = {"Content-Type": "application/json"} if body is not None else {}
    conn.request(method, path, body=body, headers=headers)
    r = conn.getresponse()
    data = r.read()
    if r.status != 200:
        raise RuntimeError(f"{method} {path} -> {r.status}: {data[:300]!r}")
    return data


def steps(conn, n, with_screenshot=False):
    times = []
    for i in range(n):
        x, y = 200 + (i * 37) % 1500, 150 + (i * 53) % 800
        t = time.perf_counter()
        call(conn, "POST", "/computer/action", json.dumps({"action": "mouse_move", "coordinate": [x, y]}))
        if with_screenshot:
            png = call(conn, "GET", "/screenshot?annotate=false&response=image")
            with open(os.devnull, "wb") as f:
                f.write(png)
        times.append((time.perf_counter() - t) * 1000)
    return times


def fmt(name, ms):
    q = statistics.quantiles(ms, n=10)
    print(f"{name:<26} median {statistics.median(ms):7.2f} ms   p90 {q[8]:7.2f} ms")
    return statistics.median(ms)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--binary", default=os.path.join(ROOT, "out", "sandbox"))
    a = ap.parse_args()
    xvfb, display = start_xvfb()
    procs = []
    try:
        paint(display, "office.png")
        on, conn_on, shared_on = start_appliance(a.binary, display, {})
        off, conn_off, shared_off = start_appliance(a.binary, display, {"SANDBOX_RECORD_MAX_STEPS": "0"})
        procs = [(on, shared_on), (off, shared_off)]
        steps(conn_on, 20)  # warm up
        base = fmt("no recording", steps(conn_on, a.steps))
        ref = fmt("action + /screenshot", steps(conn_on, a.steps, with_screenshot=True))
        call(conn_off, "GET", "/record?mode=start&video=false")
        quiet = fmt("recording, no steps", steps(conn_off, a.steps))
        call(conn_off, "GET", "/record?mode=stop")
        call(conn_on, "GET", "/record?mode=start&video=false")
        before = rss_kb(on.pid)
        first = steps(conn_on, a.steps)
        middle = rss_kb(on.pid)
        traj = fmt("recording + trajectory", first + steps(conn_on, a.steps))
        after = rss_kb(on.pid)
        stop = json.loads(call(conn_on, "GET", "/record?mode=stop"))
        folder = os.path.join(shared_on, stop["trajectory_dir"])
        size = sum(os.path.getsize(os.path.join(folder, f)) for f in os.listdir(folder))
        print(f"steps kept {stop['num_steps']}, {size / max(1, stop['num_steps']) / 1024:.0f} KiB per step on disk "
              f"(office scene PNG + line)")
        print(f"appliance RSS during the trajectory: {before / 1024:.1f} MiB at the start, {middle / 1024:.1f} MiB after "
              f"{a.steps} steps, {after / 1024:.1f} MiB after {2 * a.steps}")
        print(f"ratios: trajectory step / plain action {traj / base:.2f}x; "
              f"recording without trajectory / plain action {quiet / base:.2f}x; "
              f"action + /screenshot (reference) / trajectory step {ref / traj:.2f}x")
    finally:
        for p, shared in procs:
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
            shutil.rmtree(shared, ignore_errors=True)
        xvfb.terminate()
        xvfb.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
