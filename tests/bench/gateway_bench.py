#!/usr/bin/python3
"""Kernel gateway benchmark: the published appliance (out/sandbox) against `jupyter server` (Debian's
python3-jupyter-server, the code Kernel Gateway is built on), measured in the same run on this machine.
Prints figures and ratios; never fails on time.

    /usr/bin/python3 tests/bench/gateway_bench.py [--rounds N] [--kernel-start-only N]
    /usr/bin/python3 tests/bench/gateway_bench.py --kernel-start-vs OTHER_BINARY N   (same run: OTHER vs this vs jupyter)
"""
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

import websocket

from benchlib import PY, ROOT, free_port

BINARY = os.path.abspath(os.environ.get("SANDBOX_BENCH_BINARY") or os.path.join(ROOT, "out", "sandbox"))
ROUNDS = int(sys.argv[sys.argv.index("--rounds") + 1]) if "--rounds" in sys.argv else 200


def get(port, path):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        c.request("GET", path)
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def request(port, method, path, body=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        c.request(method, path, body=body)
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def wait_api(port, t0, proc, timeout=60):
    while time.perf_counter() - t0 < timeout:
        try:
            if get(port, "/api")[0] == 200:
                return time.perf_counter() - t0
        except OSError:
            pass
        if proc.poll() is not None:
            raise RuntimeError("server exited")
        time.sleep(0.0005)
    raise TimeoutError("no /api")


class Server:
    def __init__(self, kind, prespawn=1, gateway="builtin", extra_env=None, binary=None):
        self.kind = kind
        self.port = free_port()
        self.tmp = tempfile.mkdtemp(prefix="gwbench-")
        env = dict(os.environ)
        env["PATH"] = "/usr/bin:/bin:" + env.get("PATH", "")
        if kind == "ours":
            self.rest = free_port()
            env.update({"HOST": "127.0.0.1", "PORT": str(self.rest), "SHARED_DIR": self.tmp,
                        "JUPYTER_KERNEL_GATEWAY_APP_HOST": "127.0.0.1", "JUPYTER_KERNEL_GATEWAY_APP_PORT": str(self.port),
                        "KG_PRESPAWN_COUNT": str(prespawn), "SANDBOX_KERNEL_GATEWAY": gateway, **(extra_env or {})})
            env.pop("DISPLAY", None)
            cmd = [os.path.abspath(binary) if binary else BINARY]
        else:
            cmd = [PY, "-m", "jupyter_server", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={self.port}",
                   "--ServerApp.token=", "--ServerApp.password=", "--ServerApp.disable_check_xsrf=True",
                   "--ServerApp.open_browser=False", f"--ServerApp.root_dir={self.tmp}", "--allow-root"]
        self.t0 = time.perf_counter()
        self.proc = subprocess.Popen(cmd, env=env, cwd=self.tmp, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def wait_api(self):
        return wait_api(self.port, self.t0, self.proc)

    def wait_pool(self):
        deadline = time.time() + 60
        while time.time() < deadline:
            h = json.loads(get(self.rest, "/health")[1])
            if h["gateway"]["pool_ready"] >= 1:
                return
            time.sleep(0.01)
        raise TimeoutError("pool")

    def rss_kb(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])

    def post_kernel(self):
        t = time.perf_counter()
        status, body = request(self.port, "POST", "/api/kernels")
        dt = time.perf_counter() - t
        assert status == 201, status
        return json.loads(body)["id"], dt

    def delete(self, kid):
        request(self.port, "DELETE", f"/api/kernels/{kid}")

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def execute(ws, code):
    mid = uuid.uuid4().hex
    ws.send(json.dumps({"header": {"msg_id": mid, "msg_type": "execute_request", "username": "b", "session": "b", "version": "5.3"},
                        "parent_header": {}, "metadata": {}, "content": {"code": code, "silent": False}}))
    return mid


def until(ws, mid, want):
    while True:
        m = json.loads(ws.recv())
        if m.get("parent_header", {}).get("msg_id") != mid:
            continue
        if want(m):
            return m


def first_result(kind):
    """exec → first execute_result of a fresh server (poll /api, POST, WebSocket, execute)."""
    s = Server(kind)
    try:
        s.wait_api()
        kid, _ = s.post_kernel()
        ws = websocket.create_connection(f"ws://127.0.0.1:{s.port}/api/kernels/{kid}/channels", timeout=60)
        mid = execute(ws, "1+1")
        until(ws, mid, lambda m: m["msg_type"] == "execute_result")
        dt = time.perf_counter() - s.t0
        ws.close()
        return dt
    finally:
        s.stop()


def ipykernel_startup():
    """ipykernel's own start-up: jupyter_client launches it and waits for kernel_info (no gateway)."""
    from jupyter_client import KernelManager
    km = KernelManager(kernel_name="python3")
    t = time.perf_counter()
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=60)
    dt = time.perf_counter() - t
    kc.stop_channels()
    km.shutdown_kernel(now=True)
    return dt


def direct_round_trips(n):
    """The same execute round trip straight over ZMQ with jupyter_client: ipykernel's own floor."""
    from jupyter_client import KernelManager
    km = KernelManager(kernel_name="python3")
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=60)
    times = []
    for i in range(n + 5):
        t = time.perf_counter()
        mid = kc.execute("x=1")
        kc.get_shell_msg(timeout=10)
        while True:
            m = kc.get_iopub_msg(timeout=10)
            if m["parent_header"].get("msg_id") == mid and m["msg_type"] == "status" and m["content"]["execution_state"] == "idle":
                break
        if i >= 5:
            times.append(time.perf_counter() - t)
    kc.stop_channels()
    km.shutdown_kernel(now=True)
    return times


def round_trips(s, n):
    kid, _ = s.post_kernel()
    ws = websocket.create_connection(f"ws://127.0.0.1:{s.port}/api/kernels/{kid}/channels", timeout=60)
    times = []
    for i in range(n + 5):
        t = time.perf_counter()
        mid = execute(ws, "x=1")
        seen_reply = seen_idle = False
        while not (seen_reply and seen_idle):
            m = until(ws, mid, lambda m: True)
            seen_reply |= m["msg_type"] == "execute_reply"
            seen_idle |= m["msg_type"] == "status" and m["content"]["execution_state"] == "idle"
        if i >= 5:
            times.append(time.perf_counter() - t)
    ws.close()
    return kid, times


def ms(x):
    return f"{x * 1000:8.1f} ms"


def post_times(server, n=5, wait_pool=False):
    """POST /api/kernels → 201 times of n kernels, each deleted before the next (after the pool refilled)."""
    times = []
    for _ in range(n):
        if wait_pool:
            server.wait_pool()
        kid, dt = server.post_kernel()
        times.append(dt)
        server.delete(kid)
    return times


def kernel_info(ws):
    mid = uuid.uuid4().hex
    ws.send(json.dumps({"header": {"msg_id": mid, "msg_type": "kernel_info_request", "username": "b", "session": "b", "version": "5.3"},
                        "parent_header": {}, "metadata": {}, "content": {}, "channel": "shell"}))
    until(ws, mid, lambda m: m["msg_type"] == "kernel_info_reply")


def kernel_start_times(server, n):
    """POST /api/kernels → first kernel_info_reply over the WebSocket, n kernels one after another (each deleted)."""
    times = []
    for _ in range(n):
        t = time.perf_counter()
        kid, _ = server.post_kernel()
        ws = websocket.create_connection(f"ws://127.0.0.1:{server.port}/api/kernels/{kid}/channels", timeout=120)
        kernel_info(ws)
        times.append(time.perf_counter() - t)
        ws.close()
        server.delete(kid)
    return times


def kernel_starts_round_robin(makers, n):
    """Kernel start times (ms) of each server (made by `makers`, name -> function), started round-robin n times so
    load changes on a shared machine hit all alike; after the zygotes finished importing ipykernel (they start at
    boot) and two warm starts each (a zygote that prepares its spare from repeated requests is then ready). Stops
    the servers, also those made before one failed to start."""
    servers = {}
    try:
        for k, make in makers.items():
            servers[k] = make()
        for s in servers.values():
            s.wait_api()
        time.sleep(3)
        for s in servers.values():
            kernel_start_times(s, 2)
        times = {k: [] for k in servers}
        for _ in range(n):
            for k, s in servers.items():
                times[k] += kernel_start_times(s, 1)
    finally:
        for s in servers.values():
            s.stop()
    return times


def kernel_start_rows(n):
    """Kernel start without a pool: zygote fork vs exec per kernel vs jupyter server, same run, interleaved servers."""
    rows = []
    times = kernel_starts_round_robin({"zygote": lambda: Server("ours", prespawn=0),
                                       "exec": lambda: Server("ours", prespawn=0, extra_env={"SANDBOX_KERNEL_ZYGOTE": "0"}),
                                       "jupyter": lambda: Server("jupyter")}, n)
    j = statistics.median(times["jupyter"])
    p90 = lambda xs: sorted(xs)[min(len(xs) - 1, int(len(xs) * 0.9))]
    rows.append((f"kernel start POST → kernel_info_reply, zygote (median of {n})", statistics.median(times["zygote"]), j))
    rows.append((f"kernel start POST → kernel_info_reply, zygote (p90)", p90(times["zygote"]), p90(times["jupyter"])))
    rows.append((f"kernel start POST → kernel_info_reply, exec (median of {n})", statistics.median(times["exec"]), j))
    return rows


def kernel_start_vs(before, n):
    """Zygote kernel starts of `before` (another build) and BINARY against jupyter server, one same run round-robin."""
    times = kernel_starts_round_robin({"before": lambda: Server("ours", prespawn=0, binary=before),
                                       "this": lambda: Server("ours", prespawn=0),
                                       "jupyter": lambda: Server("jupyter")}, n)
    j = statistics.median(times["jupyter"])
    p90 = lambda xs: sorted(xs)[min(len(xs) - 1, int(len(xs) * 0.9))]
    return [(f"kernel start, {k}: median of {n} (p90 {ms(p90(times[k])).strip()})", statistics.median(times[k]), j)
            for k in ("before", "this")]


def main():
    if "--kernel-start-vs" in sys.argv:
        i = sys.argv.index("--kernel-start-vs")
        before, n = sys.argv[i + 1], int(sys.argv[i + 2])
        print(f"{'measure':60} {'ours':>11} {'jupyter server':>15} {'ratio':>8}")
        for name, a, b in kernel_start_vs(before, n):
            print(f"{name:60} {ms(a):>11} {ms(b):>15} {b / a:7.1f}x")
        return
    if "--kernel-start-only" in sys.argv:
        n = int(sys.argv[sys.argv.index("--kernel-start-only") + 1])
        print(f"{'measure':60} {'ours':>11} {'jupyter server':>15} {'ratio':>8}")
        for name, a, b in kernel_start_rows(n):
            print(f"{name:60} {ms(a):>11} {ms(b):>15} {b / a:7.1f}x")
        return
    if not os.path.exists(BINARY):
        sys.exit("out/sandbox is missing: run ./build-aot.sh first")
    rows = []

    api = {k: statistics.median([(lambda s: (s.wait_api(), s.stop())[0])(Server(k)) for _ in range(5 if k == "ours" else 3)])
           for k in ("ours", "jupyter")}
    rows.append(("exec → first 200 on /api", api["ours"], api["jupyter"]))

    ours = Server("ours", prespawn=1)
    ours.wait_api()
    warm = post_times(ours, wait_pool=True)
    cold_server = Server("ours", prespawn=0)
    cold_server.wait_api()
    cold = post_times(cold_server)
    cold_server.stop()
    js = Server("jupyter")
    js.wait_api()
    js_post = post_times(js)
    rows.append(("POST /api/kernels → 201 (ours: warm pool)", statistics.median(warm), statistics.median(js_post)))
    rows.append(("POST /api/kernels → 201 (ours: no pool)", statistics.median(cold), statistics.median(js_post)))

    kid, rt_ours = round_trips(ours, ROUNDS)
    rss_ours = ours.rss_kb()
    _, rt_js = round_trips(js, ROUNDS)
    rss_js = js.rss_kb()
    rows.append((f"execute round trip x=1 (median of {ROUNDS})", statistics.median(rt_ours), statistics.median(rt_js)))
    p90 = lambda xs: sorted(xs)[int(len(xs) * 0.9)]
    rows.append((f"execute round trip x=1 (p90)", p90(rt_ours), p90(rt_js)))
    direct = direct_round_trips(ROUNDS)
    ours.stop()
    js.stop()

    off = Server("ours", gateway="off")
    time.sleep(1.0)
    rss_off = off.rss_kb()
    off.stop()

    ipk = statistics.median([ipykernel_startup() for _ in range(3)])
    fr_ours = statistics.median([first_result("ours") for _ in range(3)])
    fr_js = statistics.median([first_result("jupyter") for _ in range(3)])
    rows.append(("exec → first execute_result, fresh server", fr_ours, fr_js))
    rows.extend(kernel_start_rows(5))

    print(f"{'measure':60} {'ours':>11} {'jupyter server':>15} {'ratio':>8}")
    for name, a, b in rows:
        print(f"{name:60} {ms(a):>11} {ms(b):>15} {b / a:7.1f}x")
    print(f"{'ipykernel start-up alone (jupyter_client)':48} {ms(ipk):>11}")
    print(f"{'round trip straight over ZMQ (jupyter_client)':48} {ms(statistics.median(direct)):>11}")
    print(f"{'first result minus ipykernel start-up':48} {ms(fr_ours - ipk):>11} {ms(fr_js - ipk):>15}")
    print(f"{'RSS with one kernel, kernel excluded':48} {rss_ours / 1024:8.1f} MB {rss_js / 1024:12.1f} MB {rss_js / rss_ours:7.1f}x")
    print(f"{'RSS of the appliance with the gateway off':48} {rss_off / 1024:8.1f} MB")
    print(f"{'gateway adds (RSS on − off)':48} {(rss_ours - rss_off) / 1024:8.1f} MB")


if __name__ == "__main__":
    main()
