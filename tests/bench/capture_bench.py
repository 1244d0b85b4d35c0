#!/usr/bin/python3
"""Screenshot benchmark, second round: unchanged vs changed screen, PNG by core count, JPEG through
libjpeg-turbo vs StbImageWriteSharp, and RSS over 1,000 screenshots. Same run, same Xvfb; figures and
same-run ratios only, never fails on time.

    /usr/bin/python3 tests/bench/capture_bench.py [--runs 20] [--binary out/sandbox] [--rss-shots 1000]
                                                  [--before OLD_BINARY] [--no-reference] [--idle-runs 6]

"Changed screen": before every request a separate X client draws one pixel on the root window (real
DAMAGE, synced), so the appliance must capture and encode again. "Unchanged": the same request again
with nothing drawn. --before runs the changed/unchanged rows with another binary too (e.g. a build of
the previous commit) for before/after figures in one run. RSS is sampled right after an answer (the busy
working set); after the 1,000 shots, separate lines give the first screenshot after a pause and RSS after one.
Needs: Xvfb, python3-requests, python3-xlib, python3-pil (+ python3-fastapi, python3-uvicorn for the reference).
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
from Xlib import X, display as xdisplay

from benchlib import HERE, PY, ROOT, cpu_ns, free_port, paint, start_xvfb, rss_kb, wait_ok


def rss_breakdown(pid):
    """RSS by kind of mapping from /proc/PID/smaps: what holds the memory (MB)."""
    kinds = {}
    name = None
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            parts = line.split()
            if "-" in parts[0] and len(parts) >= 5 and not parts[0].endswith(":"):
                path = parts[5] if len(parts) > 5 else ""
                if "SYSV" in path:
                    name = "X shared memory (MIT-SHM frame)"
                elif path.endswith("/sandbox") or "sandbox" in os.path.basename(path):
                    name = "binary (code, data)"
                elif path.startswith("/"):
                    name = "shared libraries"
                elif path == "[heap]":
                    name = "malloc heap (zlib, Xlib, libjpeg)"
                elif path.startswith("["):
                    name = "stacks, vdso"
                else:
                    name = "anonymous (GC heap, thread stacks, native allocations)"
            elif parts[0] == "Rss:" and name:
                kinds[name] = kinds.get(name, 0) + int(parts[1])
    return {k: v / 1024 for k, v in sorted(kinds.items(), key=lambda kv: -kv[1])}


def start_ours(binary, display, shared, **env_extra):
    port = free_port()
    env = {**os.environ, "DISPLAY": display, "HOST": "127.0.0.1", "PORT": str(port), "SHARED_DIR": shared,
           "JUPYTER_KERNEL_GATEWAY_APP_HOST": "127.0.0.1", "JUPYTER_KERNEL_GATEWAY_APP_PORT": str(free_port()),
           "KG_PRESPAWN_COUNT": "0", "SANDBOX_KERNEL_GATEWAY": "off", **env_extra}
    p = subprocess.Popen([binary], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_ok(port, p)
    return p, f"http://127.0.0.1:{port}"


def start_reference(display, shared):
    port = free_port()
    p = subprocess.Popen([PY, os.path.join(HERE, "reference", "old_suite_server.py"), str(port), shared],
                         env={**os.environ, "DISPLAY": display}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_ok(port, p)
    return p, f"http://127.0.0.1:{port}"


class Damager:
    """A separate X client that changes one pixel per call (and waits until the server drew it)."""

    def __init__(self, display):
        self.d = xdisplay.Display(display)
        self.root = self.d.screen().root
        self.gcs = [self.root.create_gc(foreground=c, subwindow_mode=X.IncludeInferiors) for c in (0xff0000, 0x00ff00)]
        self.i = 0

    def __call__(self):
        self.i += 1
        self.root.fill_rectangle(self.gcs[self.i % 2], 5, 5, 1, 1)
        self.d.sync()

    def close(self):
        self.d.close()


def timed(session, url, runs, before=None):
    out = []
    for _ in range(runs):
        if before:
            before()
        t0 = time.perf_counter()
        r = session.get(url, timeout=120)
        r.raise_for_status()
        _ = r.content
        out.append((time.perf_counter() - t0) * 1000)
    return out


def med(xs):
    return statistics.median(xs)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--binary", default=os.path.join(ROOT, "out", "sandbox"))
    ap.add_argument("--before", default=None)
    ap.add_argument("--rss-shots", type=int, default=1000)
    ap.add_argument("--no-reference", action="store_true")
    ap.add_argument("--rss-env", action="append", help="NAME=VALUE: one more RSS run of --binary with this variable (e.g. DOTNET_gcConcurrent=0)")
    ap.add_argument("--only-rss", action="store_true")
    ap.add_argument("--idle-runs", type=int, default=6, help="pauses before a first-after-pause screenshot, per kind (0 = none)")
    ap.add_argument("--idle-pause", type=float, default=2.5, help="seconds of each pause")
    args = ap.parse_args()

    xvfb, display = start_xvfb()
    shared = tempfile.mkdtemp(prefix="sandbox-capbench-")
    procs = []
    damage = None
    try:
        subprocess.run(["xdotool", "mousemove", "800", "450"], env={**os.environ, "DISPLAY": display}, check=True)
        damage = Damager(display)
        s = requests.Session()
        binaries = [("after", args.binary)] + ([("before", args.before)] if args.before else [])
        if not args.only_rss:
            servers = {}
            pids = {}
            for label, binary in binaries:
                p, url = start_ours(binary, display, os.path.join(shared, label))
                procs.append(p)
                servers[label] = url
                pids[label] = p.pid
            if not args.no_reference:
                p, ref_url = start_reference(display, os.path.join(shared, "ref"))
                procs.append(p)

            print(f"Screenshot latency, 1920x1080 PNG, cursor + annotation, median of {args.runs} (ms; same run, same Xvfb)")
            print(f"{'scene':11} {'server':7} {'response':9} {'unchanged':>10} {'changed':>9}  {'changed vs reference':>20}  {'server CPU per changed shot':>27}")
            for scene in ("office.png", "photo.png"):
                paint(display, scene)
                ref_ms = None
                if not args.no_reference:
                    s.get(f"{ref_url}/screenshot").raise_for_status()
                    ref_ms = med(timed(s, f"{ref_url}/screenshot", max(3, args.runs // (4 if scene == "photo.png" else 1)), damage))
                    print(f"{scene:11} {'python':7} {'json':9} {'':>10} {ref_ms:9.1f}  {'1.0x':>20}")
                for label, url in servers.items():
                    for response in ("json", "image"):
                        u = f"{url}/screenshot?response={response}"
                        s.get(u).raise_for_status()
                        unchanged = med(timed(s, u, args.runs))
                        cpu0 = cpu_ns(pids[label])
                        changed = med(timed(s, u, args.runs, damage))
                        cpu = (cpu_ns(pids[label]) - cpu0) / args.runs / 1e6
                        ratio = f"{ref_ms / changed:.1f}x faster" if ref_ms else ""
                        print(f"{scene:11} {label:7} {response:9} {unchanged:10.2f} {changed:9.2f}  {ratio:>20}  {cpu:24.2f} ms")
            for p in procs:
                p.terminate()
                p.wait(10)
            procs.clear()

            # PNG by core count and JPEG turbo vs stb: one server per setting, changed screen, response=image.
            print()
            print(f"Encode settings, changed screen, response=image, median of {args.runs} (ms; same run)")
            settings = [("PNG, 1 band (SANDBOX_PNG_THREADS=1)", {"SANDBOX_PNG_THREADS": "1"}, "png"),
                        ("PNG, 2 bands (SANDBOX_PNG_THREADS=2)", {"SANDBOX_PNG_THREADS": "2"}, "png"),
                        ("JPEG q80, StbImageWriteSharp", {"SANDBOX_TURBOJPEG": "0"}, "jpeg"),
                        ("JPEG q80, libjpeg-turbo", {}, "jpeg")]
            results = {}
            for name, env, fmt in settings:
                p, url = start_ours(args.binary, display, os.path.join(shared, "set" + str(len(results))), **env)
                procs.append(p)
                row = []
                for scene in ("office.png", "photo.png"):
                    paint(display, scene)
                    u = f"{url}/screenshot?response=image&format={fmt}&quality=80"
                    s.get(u).raise_for_status()
                    t = med(timed(s, u, args.runs, damage))
                    size = len(s.get(u).content)
                    row.append((t, size))
                results[name] = row
                p.terminate()
                p.wait(10)
                procs.clear()
            print(f"{'setting':40} {'office':>9} {'bytes':>9} {'photo':>9} {'bytes':>9}")
            for name, row in results.items():
                print(f"{name:40} {row[0][0]:9.2f} {row[0][1]:9d} {row[1][0]:9.2f} {row[1][1]:9d}")
            a, b = results[settings[0][0]], results[settings[1][0]]
            print(f"PNG 2 bands vs 1: office {a[0][0] / b[0][0]:.2f}x, photo {a[1][0] / b[1][0]:.2f}x faster")
            a, b = results[settings[2][0]], results[settings[3][0]]
            print(f"JPEG turbo vs stb: office {a[0][0] / b[0][0]:.1f}x, photo {a[1][0] / b[1][0]:.1f}x faster")

        # RSS over many screenshots: 30 office + 30 photo (the old bench's mix), then up to --rss-shots
        # changed-screen screenshots alternating scenes every 50, RSS sampled every 100.
        print()
        rss_runs = [(label, binary, {}) for label, binary in binaries]
        for spec in args.rss_env or []:
            k, _, v = spec.partition("=")
            rss_runs.append((f"after, {spec}", args.binary, {k: v}))
        for label, binary, extra in rss_runs:
            p, url = start_ours(binary, display, os.path.join(shared, "rss-" + str(abs(hash(label)))), **extra)
            procs.append(p)
            samples = [(0, rss_kb(p.pid))]
            for scene in ("office.png", "photo.png"):
                paint(display, scene)
                timed(s, f"{url}/screenshot", 30, damage)
            samples.append((60, rss_kb(p.pid)))
            done = 60
            scene_i = 0
            while done < args.rss_shots:
                paint(display, ("office.png", "photo.png")[scene_i % 2])
                scene_i += 1
                for _ in range(50):
                    damage()
                    s.get(f"{url}/screenshot" + ("?response=image" if done % 2 else "")).raise_for_status()
                    done += 1
                    if done % 100 == 0:
                        samples.append((done, rss_kb(p.pid)))
            breakdown = rss_breakdown(p.pid)
            # Agents pause between steps: the first screenshot after a pause (office, changed and unchanged
            # screen, one pause before each) and RSS after a pause, as separate figures; the samples above stay
            # taken right after the last answer.
            paint(display, "office.png")
            s.get(f"{url}/screenshot").raise_for_status()
            after_pause = {}
            for kind in ("changed", "unchanged"):
                for _ in range(args.idle_runs):
                    time.sleep(args.idle_pause)
                    after_pause.setdefault(kind, []).extend(timed(s, f"{url}/screenshot", 1, damage if kind == "changed" else None))
            time.sleep(args.idle_pause)
            idle_kb = rss_kb(p.pid)
            idle_breakdown = rss_breakdown(p.pid)
            p.terminate()
            p.wait(10)
            procs.clear()
            after60 = samples[1][1]
            tail = [kb for n, kb in samples if n >= 200] or [samples[-1][1]]   # --rss-shots under 200: the last sample
            print(f"RSS ({label}): start {samples[0][1] / 1024:.1f} MB, after 30 office + 30 photo {after60 / 1024:.1f} MB, "
                  f"over {done} screenshots min {min(tail) / 1024:.1f} / max {max(tail) / 1024:.1f} / last {tail[-1] / 1024:.1f} MB")
            print("  samples (shots: MB): " + ", ".join(f"{n}: {kb / 1024:.1f}" for n, kb in samples))
            print("  at the end, by mapping: " + ", ".join(f"{k} {v:.1f} MB" for k, v in breakdown.items()))
            if args.idle_runs:
                print(f"  after a {args.idle_pause:g} s pause: RSS {idle_kb / 1024:.1f} MB; first office screenshot after a pause, "
                      f"median of {args.idle_runs}: changed {med(after_pause['changed']):.2f} ms, unchanged {med(after_pause['unchanged']):.2f} ms")
                print("  after the pause, by mapping: " + ", ".join(f"{k} {v:.1f} MB" for k, v in idle_breakdown.items()))
    finally:
        for p in procs:
            p.kill()
        if damage:
            damage.close()
        xvfb.terminate()
        xvfb.wait()
        shutil.rmtree(shared, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
