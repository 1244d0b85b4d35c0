#!/usr/bin/python3
"""Screenshot benchmark: the published appliance against the Python reference pipeline, same run.

Prints figures and ratios; never fails on time (exit 0 unless something functional broke).
Usage: tests/bench/screenshot_bench.py [--runs 30] [--binary out/sandbox]
Needs: Xvfb, python3-requests, python3-fastapi, python3-uvicorn, python3-pil, python3-xlib.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import requests

from benchlib import HERE, PY, ROOT, free_port, paint, start_xvfb, rss_kb


def wait_http(url, proc, timeout=30.0):
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args} exited with {proc.returncode}")
        try:
            if requests.get(url, timeout=1).status_code == 200:
                return time.perf_counter() - t0
        except requests.RequestException:
            pass
        time.sleep(0.001)
    raise RuntimeError(f"{url} did not answer")


def start_ours(binary, display, shared):
    port = free_port()
    env = {**os.environ, "DISPLAY": display, "HOST": "127.0.0.1", "PORT": str(port), "SHARED_DIR": shared,
           "JUPYTER_KERNEL_GATEWAY_APP_HOST": "127.0.0.1", "JUPYTER_KERNEL_GATEWAY_APP_PORT": str(free_port()),
           "KG_PRESPAWN_COUNT": "0"}
    t0 = time.perf_counter()
    p = subprocess.Popen([binary], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_http(f"http://127.0.0.1:{port}/health", p)
    return p, port, time.perf_counter() - t0


def start_reference(display, shared):
    port = free_port()
    env = {**os.environ, "DISPLAY": display}
    t0 = time.perf_counter()
    p = subprocess.Popen([PY, os.path.join(HERE, "reference", "old_suite_server.py"), str(port), shared], env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_http(f"http://127.0.0.1:{port}/health", p)
    return p, port, time.perf_counter() - t0


def time_requests(url, runs, session):
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        r = session.get(url, timeout=60)
        r.raise_for_status()
        _ = r.content
        out.append((time.perf_counter() - t0) * 1000)
    return out


def fmt(ms):
    return f"{statistics.median(ms):8.1f} ms (p90 {sorted(ms)[int(len(ms) * 0.9) - 1]:.1f})"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--binary", default=os.path.join(ROOT, "out", "sandbox"))
    args = ap.parse_args()

    xvfb, display = start_xvfb()
    shared = tempfile.mkdtemp(prefix="sandbox-bench-")
    procs = []
    try:
        subprocess.run(["xdotool", "mousemove", "800", "450"], env={**os.environ, "DISPLAY": display}, check=True)
        ours, our_port, _ = start_ours(args.binary, display, os.path.join(shared, "ours"))
        ref, ref_port, ref_start = start_reference(display, os.path.join(shared, "ref"))
        procs += [ours, ref]
        s = requests.Session()
        print(f"Screenshot latency, 1920x1080, cursor + annotation, PNG, median of {args.runs} (same run, same Xvfb)")
        print(f"{'scene':8} {'pipeline':28} {'latency':>26} {'bytes':>10}  ratio")
        for scene in ("office.png", "photo.png"):
            paint(display, scene)
            # Warm both once.
            s.get(f"http://127.0.0.1:{our_port}/screenshot").raise_for_status()
            s.get(f"http://127.0.0.1:{ref_port}/screenshot").raise_for_status()
            ref_ms = time_requests(f"http://127.0.0.1:{ref_port}/screenshot", args.runs, s)
            ours_ms = time_requests(f"http://127.0.0.1:{our_port}/screenshot", args.runs, s)
            img_ms = time_requests(f"http://127.0.0.1:{our_port}/screenshot?response=image", args.runs, s)
            our_bytes = len(s.get(f"http://127.0.0.1:{our_port}/screenshot?response=image").content)
            rj = s.get(f"http://127.0.0.1:{ref_port}/screenshot").json()
            ref_bytes = os.path.getsize(os.path.join(shared, "ref", rj["screenshot_path"]))
            r = statistics.median(ref_ms)
            print(f"{scene:8} {'python reference (file)':28} {fmt(ref_ms):>26} {ref_bytes:>10}  1.0x")
            print(f"{scene:8} {'sandbox (file, json)':28} {fmt(ours_ms):>26} {our_bytes:>10}  {r / statistics.median(ours_ms):.1f}x faster")
            print(f"{scene:8} {'sandbox (response=image)':28} {fmt(img_ms):>26} {our_bytes:>10}  {r / statistics.median(img_ms):.1f}x faster")
        print()
        our_rss = rss_kb(ours.pid)
        ref_rss = rss_kb(ref.pid)
        for p in (ours, ref):
            p.terminate(); p.wait(10)
        procs.clear()

        starts = []
        for i in range(10):
            p, _, t = start_ours(args.binary, display, os.path.join(shared, f"cold{i}"))
            starts.append(t * 1000)
            p.terminate(); p.wait(10)
        ref_starts = []
        for i in range(3):
            p, _, t = start_reference(display, os.path.join(shared, f"refcold{i}"))
            ref_starts.append(t * 1000)
            p.terminate(); p.wait(10)
        cs, rcs = statistics.median(starts), statistics.median(ref_starts)
        print(f"Cold start, exec -> first 200 on /health: sandbox {cs:.1f} ms (median of 10), "
              f"python reference {rcs:.0f} ms (median of 3): {rcs / cs:.0f}x faster")
        print(f"RSS after the screenshots: sandbox {our_rss / 1024:.1f} MB, python reference {ref_rss / 1024:.1f} MB")
        print(f"Binary size: {os.path.getsize(args.binary) / 1e6:.1f} MB")
    finally:
        for p in procs:
            p.kill()
        xvfb.terminate()
        xvfb.wait()
        shutil.rmtree(shared, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
