#!/usr/bin/python3
"""OCI image benchmark: the appliance's image against the same base with the Python reference stack
(packaging/oci/build-image.sh --reference), measured in the same run with podman (as root).
Rows: image size; container start -> /readyz 200 under runc and gVisor (runsc), with and without waiting for the
kernel pool's first kernel (SANDBOX_FLEET_READY_NEEDS_KERNEL); for the reference, start -> its
/health and /api both 200; SIGTERM (`podman stop`) -> exit with a recording running. Never fails on time.

    /usr/bin/python3 tests/bench/oci_bench.py [--runs 3]
Targets (issue 20): ready <= 1.5 s runc, <= 3 s gVisor; image <= 60 % of the reference; stop <= 2 s.
"""
import glob
import os
import re
import shutil
import statistics
import subprocess
import sys

from benchlib import ROOT

RUNS = int(sys.argv[sys.argv.index("--runs") + 1]) if "--runs" in sys.argv else 3
VERSION = re.search(r"<Version>(.*)</Version>", open(os.path.join(ROOT, "Sandbox.csproj")).read()).group(1)
CHECK = os.path.join(ROOT, "tests", "oci", "check.py")


def build(*args):
    r = subprocess.run(["bash", os.path.join(ROOT, "packaging", "oci", "build-image.sh"), *args], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"build-image.sh {' '.join(args)} failed:\n{r.stderr}")
    return int(re.search(r"image: \S+ (\d+) bytes", r.stdout).group(1))


def run(mode, reference=False, env=()):
    args = [sys.executable, CHECK, "--mode", mode] + (["--reference"] if reference else []) + [x for e in env for x in ("--env", e)]
    r = subprocess.run(args, capture_output=True, text=True, timeout=600)
    values = dict(line.split(": ", 1) for line in r.stdout.splitlines() if ": " in line)
    if r.returncode != 0:
        sys.exit(f"{' '.join(args[1:])} failed:\n{r.stdout}\n{r.stderr}")
    return float(values["ready_s"]), float(values["stop_s"])


def main():
    if os.geteuid() != 0 or not shutil.which("podman"):
        sys.exit("oci_bench: needs root and podman/buildah")
    bundle = glob.glob(os.path.join(ROOT, "out", f"sandbox-{VERSION}-linux-x64.tar.gz"))
    if not bundle:
        sys.exit("oci_bench: run ./build-aot.sh first")
    size = build(bundle[0])
    ref_size = build("--reference")
    print(f"{'row':44} {'median':>10} {'min':>10}")
    print(f"{'image size, sandbox (MB)':44} {size / 1e6:10.1f}")
    print(f"{'image size, Python reference (MB)':44} {ref_size / 1e6:10.1f}")
    print(f"{'  ratio (target <= 0.60)':44} {size / ref_size:10.2f}")
    modes = ["runc"] + (["runsc"] if shutil.which("runsc") else [])
    for mode in modes:
        ours = [run(mode) for _ in range(RUNS)]
        no_kernel = [run(mode, env=["SANDBOX_FLEET_READY_NEEDS_KERNEL=false"]) for _ in range(RUNS)]
        ref = [run(mode, reference=True) for _ in range(RUNS)]
        for label, rows, col in ((f"start -> /readyz 200, {mode} (s)", ours, 0),
                                 (f"  same, not waiting for the pool's kernel (s)", no_kernel, 0),
                                 (f"start -> /health+/api 200, reference, {mode} (s)", ref, 0),
                                 (f"podman stop, recording running, {mode} (s)", ours, 1),
                                 (f"podman stop, reference, {mode} (s)", ref, 1)):
            xs = [r[col] for r in rows]
            print(f"{label:44} {statistics.median(xs):10.3f} {min(xs):10.3f}")
        print(f"{'  ready ratio sandbox/reference, ' + mode:44} {statistics.median([r[0] for r in ours]) / statistics.median([r[0] for r in ref]):10.2f}")


if __name__ == "__main__":
    main()
