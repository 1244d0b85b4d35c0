"""Drives a VM image built by packaging/vm/build-image.sh: boots it with its run.sh (QEMU in the
foreground, the guest's serial console on our pipes, a root shell there because SANDBOX_VM_CONSOLE=1),
runs commands in the guest through that shell, and stops it. Used by tests/vm/boot_check.py (the boot
test) and tests/bench/vm_boot_bench.py. Host times are time.monotonic() seconds from QEMU's start."""
import json
import os
import signal
import socket
import subprocess
import threading
import time
import uuid

import requests
import websocket

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Guest:
    """One booted image. Use as a context manager: the guest is stopped (QEMU killed if it must be) on exit."""

    def __init__(self, image_dir, log_path=None, accel=None, memory=None):
        self.image_dir = image_dir
        self.port, self.kg_port = free_port(), free_port()
        env = dict(os.environ, SANDBOX_VM_CONSOLE="1", SANDBOX_VM_PORT=str(self.port), SANDBOX_VM_KG_PORT=str(self.kg_port))
        if accel:
            env["SANDBOX_VM_ACCEL"] = accel
        if memory:
            env["SANDBOX_VM_MEMORY"] = str(memory)
        self.accel = env.get("SANDBOX_VM_ACCEL", "tcg")
        self._buf = bytearray()
        self._lock = threading.Condition()
        self._log = open(log_path, "wb") if log_path else None
        self._n = 0
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen([os.path.join(image_dir, "run.sh")], env=env, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def now(self):
        return time.monotonic() - self.t0

    def _read(self):
        while True:
            chunk = os.read(self.proc.stdout.fileno(), 65536)
            if not chunk:
                break
            if self._log:
                self._log.write(chunk)
                self._log.flush()
            with self._lock:
                self._buf += chunk.replace(b"\r", b"")
                self._lock.notify_all()
        with self._lock:
            self._lock.notify_all()

    def console(self):
        with self._lock:
            return self._buf.decode(errors="replace")

    def sh(self, command, timeout=120):
        """Runs COMMAND in the guest's console shell; returns (its output, host time the output ended).
        The markers are quoted in what we type, so the echoed input never matches them."""
        self._n += 1
        n = self._n
        begin, end = f"@@BEGIN{n}@@\n".encode(), f"@@END{n}@@".encode()
        with self._lock:
            start = len(self._buf)
        line = f"echo '@@BEGIN{n}''@@'; {command}; echo '@@END{n}''@@'\n"
        try:
            self.proc.stdin.write(line.encode())
            self.proc.stdin.flush()
        except BrokenPipeError:
            raise RuntimeError("the VM is gone")
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                b = self._buf.find(begin, start)
                e = self._buf.find(end, b if b >= 0 else start)
                if b >= 0 and e >= 0:
                    return self._buf[b + len(begin):e].decode(errors="replace"), self.now()
                if self.proc.poll() is not None:
                    raise RuntimeError("the VM exited:\n" + self.console()[-3000:])
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no answer to {command!r} in {timeout} s")
                self._lock.wait(min(left, 1))

    def wait_shell(self, timeout=900):
        """Waits for the console shell (it starts with multi-user.target's jobs); retries: what is typed
        before the shell reads the terminal may be dropped."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                return self.sh("true", timeout=5)
            except TimeoutError:
                if time.monotonic() > deadline:
                    raise TimeoutError("the guest's console shell never answered:\n" + self.console()[-3000:])

    def show(self, unit, *props, timeout=120):
        """systemctl show as a dict (unit None: the manager)."""
        out, _ = self.sh(f"systemctl show {unit or ''} " + " ".join("-p " + p for p in props), timeout)
        return dict(l.split("=", 1) for l in out.splitlines() if "=" in l)

    def kernel_start_host(self):
        """Host time (s from QEMU start) of the guest kernel's clock zero: /proc/uptime against arrival."""
        best = None
        for _ in range(3):
            before = self.now()
            out, after = self.sh("cat /proc/uptime", 60)
            up = float(out.split()[0])
            # The answer left the guest between before and after; take the tightest bound.
            estimate = after - up
            if best is None or (after - before) < best[1]:
                best = (estimate, after - before)
        return best[0]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)   # run.sh stops QEMU
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if self._log:
            self._log.close()
            self._log = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def until(fn, timeout, what, guest=None, interval=0.05):
    """Calls fn until it returns a truthy value; returns (value, guest time of success)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            v = fn()
            if v:
                return v, (guest.now() if guest else None)
        except (requests.RequestException, OSError, ValueError, websocket.WebSocketException):
            pass
        if guest is not None and guest.proc.poll() is not None:
            raise RuntimeError(f"the VM exited while waiting for {what}:\n" + guest.console()[-3000:])
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout} s")
        time.sleep(interval)


def http_200(url, check=None):
    def probe():
        r = requests.get(url, timeout=5)
        return r if r.status_code == 200 and (check is None or check(r)) else None
    return probe


def kernel_result(kg_port, timeout=300):
    """POST a kernel, open its channels, execute 6*7; returns the result text."""
    r = requests.post(f"http://127.0.0.1:{kg_port}/api/kernels", json={}, timeout=timeout)
    r.raise_for_status()
    kid = r.json()["id"]
    ws = websocket.create_connection(f"ws://127.0.0.1:{kg_port}/api/kernels/{kid}/channels", timeout=timeout)
    try:
        mid = uuid.uuid4().hex
        ws.send(json.dumps({"header": {"msg_id": mid, "msg_type": "execute_request", "username": "", "session": uuid.uuid4().hex,
                                       "version": "5.3", "date": ""},
                            "parent_header": {}, "metadata": {}, "channel": "shell",
                            "content": {"code": "6*7", "silent": False, "store_history": False}}))
        while True:
            m = json.loads(ws.recv())
            if m.get("parent_header", {}).get("msg_id") == mid and m.get("msg_type") == "execute_result":
                return m["content"]["data"]["text/plain"]
    finally:
        ws.close()
