#!/usr/bin/python3
"""Processes and files benchmark: the published appliance (out/sandbox) against the Python references
OSWorld's in-VM server uses, measured in the same run from the same clients. Prints figures and
same-run ratios; never fails on time.

  /process/run of `true`   vs  Flask + subprocess.run (OSWorld's /execute), same http.client loop,
                           vs  the floor: posix_spawn + waitpid of /bin/true (and of setpriv --pdeathsig,
                               the per-command wrapper the appliance used before its guardian)
  1 GiB upload/download    vs  curl against a python3 http.server upload/download server,
                           vs  loopback dd: dd reads the file into a loopback TCP connection, another dd
                               writes it to a file with fsync (upload) or to /dev/null (download) — the floor
                               of moving the bytes through a socket; plain dd file->file / file->/dev/null too
  appliance RSS sampled during the transfers

    /usr/bin/python3 tests/bench/process_bench.py [--rounds N] [--mib M] [--reps R]   (--mib 0: no transfers)
"""
import hashlib
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

from benchlib import PY, ROOT, free_port, rss_kb, stop

BINARY = os.path.join(ROOT, "out", "sandbox")
ROUNDS = int(sys.argv[sys.argv.index("--rounds") + 1]) if "--rounds" in sys.argv else 300
MIB = int(sys.argv[sys.argv.index("--mib") + 1]) if "--mib" in sys.argv else 1024
REPS = int(sys.argv[sys.argv.index("--reps") + 1]) if "--reps" in sys.argv else 3

FLASK_APP = r'''
import subprocess, sys
from flask import Flask, request, jsonify
app = Flask(__name__)

@app.route("/execute", methods=["POST"])
def execute():
    data = request.get_json()
    shell = data.get("shell", False)
    command = data.get("command", "" if shell else [])
    r = subprocess.run(command, shell=shell, capture_output=True, text=True, timeout=120)
    return jsonify({"status": "success", "output": r.stdout, "error": r.stderr, "returncode": r.returncode})

import logging
logging.getLogger("werkzeug").setLevel(logging.ERROR)
app.run(host="127.0.0.1", port=int(sys.argv[1]), threaded=True)
'''

UPLOAD_SERVER = r'''
import http.server, os, sys, shutil
root = sys.argv[2]
class H(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def __init__(self, *a, **k): super().__init__(*a, directory=root, **k)
    def log_message(self, *a): pass
    def do_PUT(self):
        n = int(self.headers["Content-Length"])
        path = os.path.join(root, os.path.basename(self.path))
        tmp = path + ".part"
        with open(tmp, "wb") as f:
            while n > 0:
                chunk = self.rfile.read(min(n, 1 << 20))
                if not chunk: break
                f.write(chunk); n -= len(chunk)
            f.flush(); os.fsync(f.fileno())
        os.replace(tmp, path)
        self.send_response(201); self.send_header("Content-Length", "0"); self.end_headers()
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
'''


def wait_port(port, proc, timeout=30):
    t0 = time.time()
    while time.time() - t0 < timeout:
        if proc.poll() is not None:
            raise RuntimeError("server exited")
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", "/")
            c.getresponse().read()
            c.close()
            return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing on port {port}")


def stats(samples):
    s = sorted(samples)
    return statistics.median(s), s[min(len(s) - 1, int(len(s) * 0.99))]


class Poster:
    """POSTs on one keep-alive connection (http.client reopens it when a server closes it)."""

    def __init__(self, port, path, body):
        self.c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.path, self.data = path, json.dumps(body).encode()

    def __call__(self):
        t0 = time.perf_counter()
        self.c.request("POST", self.path, body=self.data, headers={"Content-Type": "application/json"})
        r = self.c.getresponse()
        payload = r.read()
        dt = time.perf_counter() - t0
        if r.status != 200:
            raise RuntimeError(f"{self.path} → {r.status}: {payload[:200]}")
        return dt * 1000


def spawner(argv):
    def once():
        t0 = time.perf_counter()
        pid = os.posix_spawn(argv[0], argv, os.environ)
        os.waitpid(pid, 0)
        return (time.perf_counter() - t0) * 1000
    return once


def interleaved(subjects, rounds, block=25):
    """Blocks of `block` samples of each subject in turn (after 20 warm-up samples each), until each has
    `rounds`: load that comes and goes (a shared 2-core machine) weighs on all of them alike, so the same-run
    ratios hold even when the absolute figures wander, while within a block each server stays warm as
    it would be under one client's steady use."""
    samples = {name: [] for name in subjects}
    for once in subjects.values():
        for _ in range(20):
            once()
    while any(len(v) < rounds for v in samples.values()):
        for name, once in subjects.items():
            for _ in range(min(block, rounds - len(samples[name]))):
                samples[name].append(once())
    return {name: stats(v) for name, v in samples.items()}


def rss(pid):
    return rss_kb(pid) * 1024


class RssSampler:
    def __init__(self, pid):
        self.pid, self.base, self.peak, self.stop = pid, rss(pid), rss(pid), False
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        while not self.stop:
            self.peak = max(self.peak, rss(self.pid))
            time.sleep(0.02)

    def done(self):
        self.stop = True
        self.t.join()
        return self.base, max(self.peak, rss(self.pid))


def timed(cmd):
    os.sync()  # every write figure starts with no one else's dirty pages to flush
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def loopback_dd(src, sink):
    """dd → loopback TCP → dd: the sender is bash's /dev/tcp, the receiver dd reading the accepted socket."""
    import socket
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(1)
    port = ls.getsockname()[1]
    os.sync()
    t0 = time.perf_counter()
    sender = subprocess.Popen(["bash", "-c", f'exec dd if="$0" bs=1M status=none > /dev/tcp/127.0.0.1/{port}', src])
    conn, _ = ls.accept()
    subprocess.run(["dd", f"of={sink}", "bs=1M"] + (["conv=fsync"] if sink != "/dev/null" else []),
                   stdin=conn.fileno(), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    sender.wait()
    conn.close()
    ls.close()
    return time.perf_counter() - t0


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def main():
    if not os.path.exists(BINARY):
        sys.exit(f"missing {BINARY}: run ./build-aot.sh first")
    work = tempfile.mkdtemp(prefix="process-bench-")
    procs = []
    try:
        port, flask_port, up_port = free_port(), free_port(), free_port()
        env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(port), "SHARED_DIR": os.path.join(work, "shared"),
               "JUPYTER_KERNEL_GATEWAY_APP_HOST": "127.0.0.1", "JUPYTER_KERNEL_GATEWAY_APP_PORT": str(free_port()),
               "KG_PRESPAWN_COUNT": "0"}
        env.pop("DISPLAY", None)
        app = subprocess.Popen([BINARY], env=env, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(app)
        flask_py = os.path.join(work, "flask_exec.py")
        with open(flask_py, "w") as f:
            f.write(FLASK_APP)
        flask = subprocess.Popen([PY, flask_py, str(flask_port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(flask)
        up_py = os.path.join(work, "upload_server.py")
        up_root = os.path.join(work, "pyroot")
        os.makedirs(up_root)
        with open(up_py, "w") as f:
            f.write(UPLOAD_SERVER)
        upload = subprocess.Popen([PY, up_py, str(up_port), up_root], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(upload)
        wait_port(port, app)
        wait_port(flask_port, flask)
        wait_port(up_port, upload)

        print(f"== /process/run of `true`, {ROUNDS} samples each, in interleaved blocks of 25, one http.client connection each ==")
        setpriv = shutil.which("setpriv")
        subjects = {
            "ours": Poster(port, "/process/run", {"argv": ["true"]}),
            "ours_shell": Poster(port, "/process/run", {"command": "true"}),
            "flask": Poster(flask_port, "/execute", {"command": ["true"], "shell": False}),
            "floor": spawner(["/bin/true"]),
        }
        if setpriv:
            subjects["floor_priv"] = spawner([setpriv, "--pdeathsig", "KILL", "--", "/bin/true"])
        r = interleaved(subjects, ROUNDS)
        ours, ours_shell, ref, floor = r["ours"], r["ours_shell"], r["flask"], r["floor"]
        print(f"appliance  argv  median {ours[0]:.2f} ms  p99 {ours[1]:.2f} ms")
        print(f"appliance  shell median {ours_shell[0]:.2f} ms  p99 {ours_shell[1]:.2f} ms")
        print(f"flask+subprocess median {ref[0]:.2f} ms  p99 {ref[1]:.2f} ms")
        print(f"floor posix_spawn+waitpid /bin/true median {floor[0]:.2f} ms  p99 {floor[1]:.2f} ms")
        if "floor_priv" in r:
            print(f"floor with setpriv --pdeathsig (the per-command wrapper before the guardian) median {r['floor_priv'][0]:.2f} ms")
        print(f"ratio: flask / appliance = {ref[0] / ours[0]:.2f}x (target >= 2x); "
              f"appliance - floor = {ours[0] - floor[0]:.2f} ms (target <= 0.5 ms)")

        if MIB <= 0:
            return
        print(f"\n== {MIB} MiB transfer (curl for both servers) ==")
        src = os.path.join(work, "source.bin")
        with open(src, "wb") as f:
            block = os.urandom(1 << 20)
            for i in range(MIB):
                f.write(block[i % 251:] + block[:i % 251])
        digest = sha256(src)
        size = MIB << 20

        def rate(seconds):
            return size / (1 << 20) / seconds

        dest = os.path.join(work, "ours", "dest.bin")
        # Each figure is the median of REPS rounds, every subject once per round in turn: the load of a shared
        # machine comes and goes within seconds, and a single transfer each would compare different moments.
        runs = {k: [] for k in ("up_ours", "down_ours", "up_ref", "down_ref", "lo_write", "lo_read", "dd_write", "dd_read")}
        sampler = RssSampler(app.pid)
        ok = True
        for rep in range(REPS):
            runs["up_ours"].append(timed(["curl", "-sf", "-T", src, "-H", "Content-Type: application/octet-stream",
                                          f"http://127.0.0.1:{port}/files?path={dest}&mkdirs=true"]))
            runs["down_ours"].append(timed(["curl", "-sf", "-o", "/dev/null", f"http://127.0.0.1:{port}/files?path={dest}"]))
            if rep == 0:
                ok = sha256(dest) == digest
            runs["up_ref"].append(timed(["curl", "-sf", "-T", src, f"http://127.0.0.1:{up_port}/ref.bin"]))
            runs["down_ref"].append(timed(["curl", "-sf", "-o", "/dev/null", f"http://127.0.0.1:{up_port}/ref.bin"]))
            runs["lo_write"].append(loopback_dd(src, os.path.join(work, "lo.bin")))
            runs["lo_read"].append(loopback_dd(src, "/dev/null"))
            runs["dd_write"].append(timed(["dd", f"if={src}", f"of={os.path.join(work, 'dd.bin')}", "bs=1M", "conv=fsync"]))
            runs["dd_read"].append(timed(["dd", f"if={src}", "of=/dev/null", "bs=1M"]))
        base, peak = sampler.done()
        t = {k: statistics.median(v) for k, v in runs.items()}
        print(f"(median of {REPS} interleaved rounds)")
        print(f"appliance upload   {rate(t['up_ours']):7.0f} MiB/s   download {rate(t['down_ours']):7.0f} MiB/s   sha256 {'equal' if ok else 'DIFFERENT'}")
        print(f"python http.server upload {rate(t['up_ref']):7.0f} MiB/s   download {rate(t['down_ref']):7.0f} MiB/s")
        print(f"loopback dd (dd->tcp->dd) to file+fsync {rate(t['lo_write']):7.0f} MiB/s   to /dev/null {rate(t['lo_read']):7.0f} MiB/s")
        print(f"plain dd file->file+fsync {rate(t['dd_write']):7.0f} MiB/s   file->/dev/null {rate(t['dd_read']):7.0f} MiB/s")
        print(f"ratios: upload {t['up_ref'] / t['up_ours']:.2f}x python, {t['lo_write'] / t['up_ours'] * 100:.0f}% of loopback dd; "
              f"download {t['down_ref'] / t['down_ours']:.2f}x python, {t['lo_read'] / t['down_ours'] * 100:.0f}% of loopback dd (target >= 80%)")
        print(f"appliance RSS {base / 1048576:.1f} MiB before, peak {peak / 1048576:.1f} MiB during the transfers "
              f"(+{(peak - base) / 1048576:.1f} MiB; target <= 10 MB)")
    finally:
        stop(procs)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
