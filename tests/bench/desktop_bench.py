#!/usr/bin/python3
"""Desktop benchmark (issue 14), same run, same Xvfb + openbox:

  GET /windows with 20 xterm windows   vs   `wmctrl -lpG` (one process per call, as harnesses do)
  clipboard set + read (PUT + GET)      vs   `xclip -i` + `xclip -o` (one process each)
  POST /wait screen_settled             latency after an animation's last frame, beyond quiet_ms

Prints medians, p90 and same-run ratios; never fails on time.
Usage: tests/bench/desktop_bench.py [--runs 100] [--windows 20] [--binary out/sandbox]
Needs: Xvfb, openbox, xterm, wmctrl, xclip, xdotool.
"""
import argparse
import http.client
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from benchlib import PY, ROOT, free_port, start_xvfb, stop


def figures(samples):
    s = sorted(samples)
    return statistics.median(s) * 1000, s[int(len(s) * 0.9) - 1] * 1000


def timed(fn, runs):
    fn()  # warm
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=100)
    ap.add_argument("--windows", type=int, default=20)
    ap.add_argument("--binary", default=os.path.join(ROOT, "out", "sandbox"))
    a = ap.parse_args()

    procs = []
    shared = tempfile.mkdtemp(prefix="desktop-bench-")
    xvfb, display = start_xvfb("1280x800x24")
    env = {**os.environ, "DISPLAY": display}
    env.pop("XAUTHORITY", None)
    try:
        procs.append(subprocess.Popen(["openbox"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        for _ in range(200):
            if "window id" in subprocess.run(["xprop", "-root", "_NET_SUPPORTING_WM_CHECK"], env=env,
                                             capture_output=True, text=True).stdout:
                break
            time.sleep(0.05)
        for i in range(a.windows):
            procs.append(subprocess.Popen(["xterm", "-T", f"bench {i}", "-geometry", "40x10"], env=env,
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        port = free_port()
        app = subprocess.Popen([a.binary], env={**env, "HOST": "127.0.0.1", "PORT": str(port), "SHARED_DIR": shared,
                                                "JUPYTER_KERNEL_GATEWAY_APP_HOST": "127.0.0.1",
                                                "JUPYTER_KERNEL_GATEWAY_APP_PORT": str(free_port()),
                                                "KG_PRESPAWN_COUNT": "0"},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(app)
        conn = http.client.HTTPConnection("127.0.0.1", port)

        def req(method, path, body=None, headers=None):
            conn.request(method, path, body=body, headers=headers or {})
            r = conn.getresponse()
            data = r.read()
            if r.status >= 300:
                raise RuntimeError(f"{method} {path} -> {r.status}: {data[:200]!r}")
            return data

        for _ in range(600):
            try:
                req("GET", "/health")
                break
            except (OSError, RuntimeError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port)
                time.sleep(0.05)
        for _ in range(600):
            if len(json.loads(req("GET", "/windows"))["windows"]) >= a.windows:
                break
            time.sleep(0.1)
        # Let the xterms finish starting (drawing) before timing anything.
        req("POST", "/wait", json.dumps({"until": "screen_settled", "quiet_ms": 1000, "timeout_ms": 60000}).encode(),
            {"Content-Type": "application/json"})
        n = len(json.loads(req("GET", "/windows"))["windows"])
        print(f"windows listed: {n}")

        api = timed(lambda: req("GET", "/windows"), a.runs)
        wm = timed(lambda: subprocess.run(["wmctrl", "-lpG"], env=env, capture_output=True, check=True), a.runs)
        text = "Grüße, 世界 — ñ " * 4

        def api_clip():
            req("PUT", "/clipboard", text.encode(), {"Content-Type": "text/plain; charset=utf-8"})
            assert req("GET", "/clipboard").decode() == text

        def xclip_clip():
            subprocess.run(["xclip", "-i", "-selection", "clipboard"], input=text.encode(), env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
            out = subprocess.run(["xclip", "-o", "-selection", "clipboard"], env=env, capture_output=True, check=True).stdout
            assert out.decode() == text

        clip = timed(api_clip, a.runs)
        xclip = timed(xclip_clip, a.runs)
        # Reading what another client (xclip) owns: a real conversion through the X server.
        subprocess.run(["xclip", "-i", "-selection", "clipboard"], input=text.encode(), env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        time.sleep(0.2)
        foreign = timed(lambda: req("GET", "/clipboard"), a.runs)

        # screen_settled: an animating Tk canvas stops; how long after its last frame (minus quiet_ms) we answer.
        anim = subprocess.Popen([PY, os.path.join(ROOT, "tests", "Sandbox.E2E", "Desktop", "animate.py")], env=env,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        procs.append(anim)
        anim.stdout.readline()  # ready
        quiet = 200
        settle = []
        body = json.dumps({"until": "screen_settled", "quiet_ms": quiet, "timeout_ms": 30000}).encode()
        req("POST", "/wait", body, {"Content-Type": "application/json"})
        for _ in range(max(5, a.runs // 10)):
            anim.stdin.write("animate 15\n")
            anim.stdin.flush()
            req("POST", "/wait", body, {"Content-Type": "application/json"})
            answered = time.monotonic_ns()
            stopped = json.loads(anim.stdout.readline())["stopped"]
            settle.append((answered - stopped) / 1e9 - quiet / 1000)

        print(f"{'measure':44} {'median ms':>10} {'p90 ms':>10}")
        for name, s in [(f"GET /windows ({n} windows)", api), ("wmctrl -lpG", wm),
                        ("PUT+GET /clipboard", clip), ("xclip -i + xclip -o", xclip),
                        ("GET /clipboard owned by xclip", foreign),
                        (f"screen_settled answer - last frame - quiet_ms", settle)]:
            m, p = figures(s)
            print(f"{name:44} {m:10.2f} {p:10.2f}")
        print(f"ratio wmctrl / GET /windows:        {statistics.median(wm) / statistics.median(api):.1f}x")
        print(f"ratio xclip pair / clipboard pair:  {statistics.median(xclip) / statistics.median(clip):.1f}x")
    finally:
        stop(procs, timeout=5)
        xvfb.terminate()
        xvfb.wait(5)
        shutil.rmtree(shared, ignore_errors=True)


if __name__ == "__main__":
    main()
