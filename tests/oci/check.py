#!/usr/bin/python3
"""Runs the OCI image with podman and checks it from outside, as a fleet would:
/readyz 503 -> 200 (timed from `podman run`), /health reports the container's memory limit, a screenshot
decodes, a kernel runs code, a click moves the pointer (xdotool inside the container), /init sets a token
that both ports then require, and `podman stop` with a recording running exits 0 quickly, leaving no process.

    /usr/bin/python3 tests/oci/check.py --mode runc|runsc|kube [--image localhost/sandbox:0.1.0] [--reference] [--env NAME=VALUE ...]
Prints `name: value` lines (the E2E test and tests/bench/oci_bench.py read them); exit 1 on a failed check.
--reference runs the Python reference image instead and only times start -> ready (its /health and /api).
"""
import argparse
import io
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import uuid

import requests
import websocket

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MEMORY = 1 << 30
TOKEN = "oci-check-Tok3n"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# `podman kube play` takes no --ulimit: the same limits come from a containers.conf of our own (runc cannot raise
# RLIMIT_NOFILE/NPROC to podman's defaults on this host, and crun fails on its cgroup v1 hybrid).
CONF = tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False)
CONF.write('[containers]\ndefault_ulimits = ["nofile=1024:1024", "nproc=1000:1000"]\n')
CONF.close()


def podman(*args, check=True, timeout=120):
    r = subprocess.run(["podman", *args], capture_output=True, text=True, timeout=timeout,
                       env={**os.environ, "CONTAINERS_CONF": CONF.name})
    if check and r.returncode != 0:
        raise RuntimeError(f"podman {' '.join(args)}: {r.returncode}\n{r.stderr.strip()}")
    return r


def say(name, value):
    print(f"{name}: {value}", flush=True)


def fail(message):
    say("FAILED", message)
    sys.exit(1)


def wait_ready(url, t0, timeout=120, ok=lambda r: r.status_code == 200):
    statuses = []
    while time.monotonic() - t0 < timeout:
        try:
            r = requests.get(url, timeout=2)
            if not statuses or statuses[-1] != r.status_code:
                statuses.append(r.status_code)
            if ok(r):
                return time.monotonic() - t0, statuses
        except requests.RequestException:
            if not statuses or statuses[-1] != "refused":
                statuses.append("refused")
        time.sleep(0.01)
    fail(f"{url} not ready within {timeout} s (seen {statuses})")


def run_kernel(gw, headers):
    r = requests.post(f"http://127.0.0.1:{gw}/api/kernels", headers=headers, timeout=120)
    r.raise_for_status()
    kid = r.json()["id"]
    ws = websocket.create_connection(f"ws://127.0.0.1:{gw}/api/kernels/{kid}/channels",
                                     header=[f"{k}: {v}" for k, v in headers.items()], timeout=120)
    msg_id = uuid.uuid4().hex
    ws.send(json.dumps({"header": {"msg_id": msg_id, "msg_type": "execute_request", "username": "t", "session": uuid.uuid4().hex,
                                   "version": "5.3"}, "parent_header": {}, "metadata": {}, "channel": "shell",
                        "content": {"code": "print(6*7)", "silent": False, "store_history": False, "user_expressions": {},
                                    "allow_stdin": False}}))
    out = ""
    while True:
        m = json.loads(ws.recv())
        if m.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        if m["msg_type"] == "stream":
            out += m["content"]["text"]
        if m["msg_type"] == "status" and m["content"]["execution_state"] == "idle":
            break
    ws.close()
    return out.strip()


def container_pids(container, cid):
    """Host pids of everything in the container: `podman top` (runc), plus the runtime's own processes
    named after the container (runsc's sandbox and gofer), never conmon (podman's monitor, which outlives it)."""
    pids = set()
    top = podman("top", container, "hpid", check=False)
    for line in top.stdout.splitlines()[1:]:
        if line.strip().isdigit():
            pids.add(int(line.strip()))
    for line in subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout.splitlines()[1:]:
        pid, _, args = line.strip().partition(" ")
        if cid in args and "conmon" not in args and pid.isdigit():
            pids.add(int(pid))
    return pids


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", choices=["runc", "runsc", "kube"], required=True)
    ap.add_argument("--image", default=None)
    ap.add_argument("--reference", action="store_true")
    ap.add_argument("--env", action="append", default=[], help="NAME=VALUE for the container (runc/runsc)")
    a = ap.parse_args()
    version = re.search(r"<Version>(.*)</Version>", open(os.path.join(ROOT, "Sandbox.csproj")).read()).group(1)
    image = a.image or (f"localhost/sandbox-reference:{version}" if a.reference else f"localhost/sandbox:{version}")
    api, gw = free_port(), free_port()
    name = f"sandbox-check-{uuid.uuid4().hex[:8]}"
    kube_file = None
    container = name
    try:
        t0 = time.monotonic()
        if a.mode == "kube":
            import yaml
            with open(os.path.join(ROOT, "packaging", "k8s", "pod.yaml")) as f:
                pod = yaml.safe_load(f)
            pod["metadata"]["name"] = name
            c = pod["spec"]["containers"][0]
            c["image"] = image
            for p in c["ports"]:
                p["hostPort"] = api if p["containerPort"] == 8765 else gw
            kube_file = tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False)
            yaml.safe_dump(pod, kube_file)
            kube_file.close()
            podman("kube", "play", "--replace", kube_file.name)
            container = f"{name}-{c['name']}"
        else:
            args = ["run", "-d", "--name", name, "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1000:1000",
                    "--memory", str(MEMORY), "--shm-size", "256m",
                    "-p", f"127.0.0.1:{api}:8765", "-p", f"127.0.0.1:{gw}:8888"]
            if a.mode == "runsc":
                args += ["--runtime", "runsc", "--runtime-flag", "network=host"]
            for e in a.env:
                args += ["--env", e]
            podman(*args, image)
        if a.reference:
            ready, statuses = wait_ready(f"http://127.0.0.1:{api}/health", t0)
            wait_ready(f"http://127.0.0.1:{gw}/api", t0)
            say("ready_s", f"{time.monotonic() - t0:.3f}")
            t1 = time.monotonic()
            podman("stop", "-t", "30", container)
            say("stop_s", f"{time.monotonic() - t1:.3f}")
            return
        ready, statuses = wait_ready(f"http://127.0.0.1:{api}/readyz", t0)
        say("readyz_statuses", " ".join(map(str, statuses)))
        say("ready_s", f"{ready:.3f}")
        if 200 in statuses[:-1]:
            fail("readyz was 200 before it was ready")

        health = requests.get(f"http://127.0.0.1:{api}/health", timeout=10).json()
        container_health = health.get("container", {})
        say("memory_limit_bytes", container_health.get("memory_limit_bytes"))
        say("cgroup_version", container_health.get("cgroup_version"))
        if container_health.get("memory_limit_bytes") != MEMORY:
            fail(f"/health container = {container_health}, expected memory_limit_bytes {MEMORY}")
        display = health["display"]["name"]

        from PIL import Image
        shot = requests.get(f"http://127.0.0.1:{api}/screenshot?response=image", timeout=30)
        img = Image.open(io.BytesIO(shot.content))
        img.load()
        say("screenshot", f"{img.size[0]}x{img.size[1]} {img.format}")

        say("kernel", run_kernel(gw, {}))

        r = requests.post(f"http://127.0.0.1:{api}/computer/action", json={"action": "left_click", "coordinate": [321, 123]}, timeout=30)
        r.raise_for_status()
        where = podman("exec", "--env", f"DISPLAY={display}", container, "/usr/bin/xdotool", "getmouselocation").stdout.strip()
        say("pointer", where)
        if not where.startswith("x:321 y:123"):
            fail(f"pointer at {where}, expected 321,123")

        r = requests.post(f"http://127.0.0.1:{api}/init", json={"token": TOKEN, "env": {"CLAIM_ID": "c1"}}, timeout=10)
        say("init", r.status_code)
        auth = {"Authorization": f"token {TOKEN}"}
        without = requests.get(f"http://127.0.0.1:{api}/screenshot", timeout=10).status_code
        with_token = requests.get(f"http://127.0.0.1:{api}/screenshot", headers=auth, timeout=30).status_code
        gw_without = requests.get(f"http://127.0.0.1:{gw}/api/kernels/none", timeout=10).status_code
        say("token_required", f"rest {without}/{with_token} gateway {gw_without}")
        if (r.status_code, without, with_token, gw_without) != (200, 401, 200, 401):
            fail("the /init token is not enforced")

        rec = requests.get(f"http://127.0.0.1:{api}/record?mode=start", headers=auth, timeout=30).json()
        say("recording", rec.get("action_recording_status"))
        cid = json.loads(podman("inspect", container).stdout)[0]["Id"]
        before = container_pids(container, cid)
        say("processes_before_stop", len(before))
        t1 = time.monotonic()
        if a.mode == "kube":
            podman("pod", "stop", "-t", "30", name, timeout=60)
        else:
            podman("stop", "-t", "30", container, timeout=60)
        say("stop_s", f"{time.monotonic() - t1:.3f}")
        state = json.loads(podman("inspect", container).stdout)[0]["State"]
        say("exit_code", state["ExitCode"])
        left = [p for p in before if os.path.exists(f"/proc/{p}")]
        say("processes_left", len(left))
        with tempfile.TemporaryDirectory() as d:
            podman("cp", f"{container}:/tmp/sandbox-server/recordings", d, check=False)
            files = [f for _, _, fs in os.walk(d) for f in fs]
            say("recording_files", " ".join(sorted(files)) or "none")
        if state["ExitCode"] != 0 or left:
            fail(f"exit {state['ExitCode']}, left {left}")
        # The recording was finished on SIGTERM: its action list is written. (gVisor keeps the container's
        # files in its own overlay, out of `podman cp`'s reach once stopped.)
        if a.mode != "runsc" and not any(f.startswith("actions-") and f.endswith(".json") for f in files):
            fail("no finished action recording after the stop")
        say("result", "passed")
    finally:
        if kube_file:
            podman("kube", "down", kube_file.name, check=False)
            os.unlink(kube_file.name)
        else:
            podman("rm", "-f", "-t", "0", name, check=False)
        os.unlink(CONF.name)


if __name__ == "__main__":
    main()
