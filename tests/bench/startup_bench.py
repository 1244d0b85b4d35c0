#!/usr/bin/python3
"""Start-up benchmark, run by .ci/run after the tests: the published appliance against the Python
reference stack (the old suite's FastAPI screenshot server + `jupyter server` for kernels), measured
in the same run on the same Xvfb. Prints a table; timing never fails, a functional error does (exit 1).

    /usr/bin/python3 tests/bench/startup_bench.py [--runs 5]
Rows: exec -> first 200 on /health, on /api, first screenshot, first kernel result; RSS; sizes.

    /usr/bin/python3 tests/bench/startup_bench.py --cold 50 [--binary PATH]...
Cold-start distribution only: exec -> first 200 on /health, N runs per binary (min, median, p90, max),
against the reference server's /health (N/5 runs), polled the same way (raw sockets, 0.5 ms apart).
"""
import glob
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

import requests
import websocket

from benchlib import HERE, PY, ROOT, free_port, paint, start_xvfb, rss_kb

BINARY = os.path.join(ROOT, "out", "sandbox")
RUNS = int(sys.argv[sys.argv.index("--runs") + 1]) if "--runs" in sys.argv else 5
TOKEN = "bench-token"


def until_200(url, t0, proc, timeout=60, headers=None):
    while time.perf_counter() - t0 < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args[0]} exited with {proc.returncode}")
        try:
            if requests.get(url, timeout=2, headers=headers).status_code == 200:
                return (time.perf_counter() - t0) * 1000
        except requests.RequestException:
            pass
        time.sleep(0.001)
    raise RuntimeError(f"{url} never answered 200")


def first_result(gport, t0, headers=None, token=None):
    """POST a kernel, open its channels, execute 6*7; ms from t0 to the execute_result."""
    r = requests.post(f"http://127.0.0.1:{gport}/api/kernels", json={}, headers=headers, timeout=120)
    r.raise_for_status()
    kid = r.json()["id"]
    q = f"?token={token}" if token else ""
    ws = websocket.create_connection(f"ws://127.0.0.1:{gport}/api/kernels/{kid}/channels{q}", timeout=120)
    mid = uuid.uuid4().hex
    ws.send(json.dumps({"header": {"msg_id": mid, "msg_type": "execute_request", "username": "", "session": uuid.uuid4().hex,
                                   "version": "5.3", "date": ""},
                        "parent_header": {}, "metadata": {}, "channel": "shell",
                        "content": {"code": "6*7", "silent": False, "store_history": False}}))
    while True:
        m = json.loads(ws.recv())
        if m.get("parent_header", {}).get("msg_id") == mid and m["msg_type"] == "execute_result":
            assert m["content"]["data"]["text/plain"] == "42", m
            ms = (time.perf_counter() - t0) * 1000
            ws.close()
            return ms


def rss_mb(pid):
    return rss_kb(pid) / 1024


def appliance_env(display, shared):
    """Free REST and gateway ports on loopback, and the appliance's environment for them."""
    port, gport = free_port(), free_port()
    env = {**os.environ, "DISPLAY": display, "HOST": "127.0.0.1", "PORT": str(port), "SHARED_DIR": shared,
           "JUPYTER_KERNEL_GATEWAY_APP_HOST": "127.0.0.1", "JUPYTER_KERNEL_GATEWAY_APP_PORT": str(gport)}
    return port, gport, env


def ours(display, shared):
    port, gport, env = appliance_env(display, shared)
    t0 = time.perf_counter()
    p = subprocess.Popen([BINARY], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        out = {"health": until_200(f"http://127.0.0.1:{port}/health", t0, p),
               "api": until_200(f"http://127.0.0.1:{gport}/api", t0, p)}
        r = requests.get(f"http://127.0.0.1:{port}/screenshot", timeout=60)
        r.raise_for_status()
        assert os.path.getsize(os.path.join(shared, r.json()["screenshot_path"])) > 1000
        out["screenshot"] = (time.perf_counter() - t0) * 1000
        out["kernel"] = first_result(gport, t0)
        out["rss"] = rss_mb(p.pid)
        return out
    finally:
        p.terminate()
        p.wait(15)


def reference(display, shared):
    port, gport = free_port(), free_port()
    env = {**os.environ, "DISPLAY": display}
    os.makedirs(shared, exist_ok=True)
    t0 = time.perf_counter()
    web = subprocess.Popen([PY, os.path.join(HERE, "reference", "old_suite_server.py"), str(port), shared], env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    gw = subprocess.Popen([PY, "-m", "jupyter_server", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={gport}",
                           f"--ServerApp.token={TOKEN}", "--ServerApp.open_browser=False",
                           f"--ServerApp.root_dir={shared}", "--ServerApp.port_retries=0", "--allow-root"],
                          env={**env, "PATH": "/usr/bin:" + env.get("PATH", "")},
                          stdout=subprocess.DEVNULL, stderr=open(os.path.join(shared, "jupyter-server.log"), "w"))
    h = {"Authorization": f"token {TOKEN}"}
    try:
        out = {"health": until_200(f"http://127.0.0.1:{port}/health", t0, web),
               "api": until_200(f"http://127.0.0.1:{gport}/api", t0, gw, headers=h)}
        r = requests.get(f"http://127.0.0.1:{port}/screenshot", timeout=60)
        r.raise_for_status()
        out["screenshot"] = (time.perf_counter() - t0) * 1000
        out["kernel"] = first_result(gport, t0, headers=h, token=TOKEN)
        out["rss"] = rss_mb(web.pid) + rss_mb(gw.pid)
        return out
    finally:
        for p in (web, gw):
            p.terminate()
        for p in (web, gw):
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()


def raw_200(port, t0, proc, timeout=60):
    """Polls GET /health over a raw socket (the poller's own cost stays far below a millisecond)."""
    req = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    while time.perf_counter() - t0 < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args[0]} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                s.sendall(req)
                head = s.recv(64)
                if head.startswith(b"HTTP/1.1 200"):
                    return (time.perf_counter() - t0) * 1000
        except OSError:
            pass
        time.sleep(0.0005)
    raise RuntimeError("/health never answered 200")


def cold_ours(binary, display, shared):
    port, gport, env = appliance_env(display, shared)
    t0 = time.perf_counter()
    p = subprocess.Popen([binary], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        return raw_200(port, t0, p)
    finally:
        p.terminate()
        p.wait(15)


def cold_reference(display, shared):
    port = free_port()
    os.makedirs(shared, exist_ok=True)
    t0 = time.perf_counter()
    p = subprocess.Popen([PY, os.path.join(HERE, "reference", "old_suite_server.py"), str(port), shared],
                         env={**os.environ, "DISPLAY": display}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        return raw_200(port, t0, p)
    finally:
        p.terminate()
        p.wait(15)


def cold_main(runs):
    binaries = [sys.argv[i + 1] for i, a in enumerate(sys.argv) if a == "--binary"] or [BINARY]
    xvfb, display = start_xvfb()
    tmp = tempfile.mkdtemp(prefix="sandbox-cold-")
    try:
        paint(display, "office.png")
        results = {b: [] for b in binaries}
        ref = []
        for i in range(runs):  # interleaved, so a burst of load hits every binary alike
            for b in binaries:
                results[b].append(cold_ours(b, display, os.path.join(tmp, f"o{i}")))
            if i % 5 == 0:
                ref.append(cold_reference(display, os.path.join(tmp, f"r{i}")))
        dist = lambda xs: (min(xs), statistics.median(xs), sorted(xs)[int(len(xs) * 0.9)], max(xs))
        print(f"Cold start, exec -> first 200 on /health ({runs} runs each; reference {len(ref)} runs; same Xvfb)")
        print(f"{'binary':40} {'min':>8} {'median':>8} {'p90':>8} {'max':>8} {'ref/median':>10}")
        rmed = statistics.median(ref)
        for b in binaries:
            mn, md, p90, mx = dist(results[b])
            print(f"{b[-40:]:40} {mn:8.1f} {md:8.1f} {p90:8.1f} {mx:8.1f} {rmed / md:9.1f}x")
        mn, md, p90, mx = dist(ref)
        print(f"{'python reference (old_suite_server.py)':40} {mn:8.1f} {md:8.1f} {p90:8.1f} {mx:8.1f}")
        return 0
    except Exception as e:
        print(f"startup bench: FAILED: {e!r}")
        return 1
    finally:
        xvfb.terminate()
        xvfb.wait()
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    if "--cold" in sys.argv:
        return cold_main(int(sys.argv[sys.argv.index("--cold") + 1]))
    if not os.path.exists(BINARY):
        print(f"startup bench: {BINARY} is missing (./build-aot.sh)")
        return 1
    xvfb, display = start_xvfb()
    tmp = tempfile.mkdtemp(prefix="sandbox-startup-")
    try:
        paint(display, "office.png")
        a = [ours(display, os.path.join(tmp, f"ours{i}")) for i in range(RUNS)]
        b = [reference(display, os.path.join(tmp, f"ref{i}")) for i in range(max(1, RUNS // 2))]
        med = lambda rows, k: statistics.median(r[k] for r in rows)
        print(f"Start-up, exec -> first answer (medians: sandbox {len(a)} runs, python reference {len(b)} runs; same Xvfb)")
        print(f"{'measure':34} {'sandbox':>12} {'python ref':>12} {'ratio':>8}")
        rows = [("first 200 on /health", "health"), ("first 200 on /api (gateway)", "api"),
                ("first screenshot (office, PNG)", "screenshot"), ("first kernel result (6*7)", "kernel")]
        for label, k in rows:
            x, y = med(a, k), med(b, k)
            print(f"{label:34} {x:9.1f} ms {y:9.1f} ms {y / x:7.1f}x")
        x, y = med(a, "rss"), med(b, "rss")
        print(f"{'RSS after the first result':34} {x:9.1f} MB {y:9.1f} MB {y / x:7.1f}x  (kernels excluded)")
        print(f"{'binary size':34} {os.path.getsize(BINARY) / 1e6:9.1f} MB")
        bundles = glob.glob(os.path.join(ROOT, "out", "sandbox-*-linux-x64.tar.gz"))
        if bundles:
            print(f"{'bundle size (tar.gz)':34} {os.path.getsize(bundles[0]) / 1e6:9.1f} MB")
        return 0
    except Exception as e:  # a functional failure fails CI; timing never does
        print(f"startup bench: FAILED: {e!r}")
        for log in glob.glob(os.path.join(tmp, "*", "jupyter-server.log")):
            print(open(log).read()[-2000:])
        return 1
    finally:
        xvfb.terminate()
        xvfb.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
