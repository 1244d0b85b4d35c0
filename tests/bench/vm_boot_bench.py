#!/usr/bin/python3
"""Boot benchmark: the appliance's VM image against the Python reference image, booted the same way in
the same run (QEMU, user-mode network with forwarded ports, TCG unless SANDBOX_VM_ACCEL=kvm).

    /usr/bin/python3 tests/bench/vm_boot_bench.py [--runs N] [--appliance out/vm] [--reference out/vm-reference]

Images come from packaging/vm/build-image.sh (--variant reference for the second). Host times are from
QEMU's start: first 200 on /health, first 200 on /screenshot (the old suite's JSON answer, PNG written in
the guest), first kernel result (POST /api/kernels, execute 6*7 over the WebSocket). Guest times come
from systemd over the serial console (systemctl show): kernel -> systemd handover, the serving units'
exec -> active (for Type=notify: READY=1), placed on the host clock through /proc/uptime. Also RSS and
cgroup memory in the guest, and image sizes. Prints a table with same-run ratios; never fails on time.
"""
import json
import os
import statistics
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "vm"))
from vmlib import ROOT, Guest, http_200, kernel_result, until  # noqa: E402

RUNS = int(sys.argv[sys.argv.index("--runs") + 1]) if "--runs" in sys.argv else 1
APPLIANCE = sys.argv[sys.argv.index("--appliance") + 1] if "--appliance" in sys.argv else os.path.join(ROOT, "out", "vm")
REFERENCE = sys.argv[sys.argv.index("--reference") + 1] if "--reference" in sys.argv else os.path.join(ROOT, "out", "vm-reference")
TIMEOUT = int(os.environ.get("SANDBOX_VM_BOOT_TIMEOUT", "1200"))
UNITS = {"appliance": ["sandbox.service"], "reference": ["reference-server.service", "reference-kernels.service"]}


def boot_once(name, image):
    r = {}
    with Guest(image, log_path=os.path.join(image, "bench.console.log")) as g:
        r["accel"] = g.accel
        base, kg = f"http://127.0.0.1:{g.port}", f"http://127.0.0.1:{g.kg_port}"
        _, r["health"] = until(http_200(base + "/health"), TIMEOUT, "/health", g, interval=0.02)
        _, r["screenshot"] = until(http_200(base + "/screenshot"), TIMEOUT, "/screenshot", g, interval=0.02)
        until(lambda: kernel_result(g.kg_port, timeout=600) == "42", TIMEOUT, "a kernel result", g, interval=0.1)
        r["kernel"] = g.now()
        g.wait_shell(TIMEOUT)
        k0 = g.kernel_start_host()
        r["kernel_start"] = k0
        m = g.show(None, "UserspaceTimestampMonotonic", "FinishTimestampMonotonic")
        r["handover"] = k0 + int(m["UserspaceTimestampMonotonic"]) / 1e6
        starts, actives, rss, cg = [], [], 0, 0
        for unit in UNITS[name]:
            u = g.show(unit, "ExecMainStartTimestampMonotonic", "ActiveEnterTimestampMonotonic", "MainPID", "MemoryCurrent", "Type")
            starts.append(int(u["ExecMainStartTimestampMonotonic"]) / 1e6)
            actives.append(int(u["ActiveEnterTimestampMonotonic"]) / 1e6)
            pid = u["MainPID"]
            out, _ = g.sh(f"grep VmRSS /proc/{pid}/status", 60)
            rss += int(out.split()[1]) if out.split() else 0
            cg += int(u["MemoryCurrent"]) if u["MemoryCurrent"].isdigit() else 0
            r.setdefault("types", []).append(u["Type"])
        r["unit_start"] = k0 + min(starts)
        r["unit_active"] = k0 + max(actives)
        r["unit_ready_ms"] = (max(actives) - min(starts)) * 1000
        r["rss_mb"] = rss / 1024
        r["cgroup_mb"] = cg / 1048576
        r["analyze"], _ = g.sh("systemd-analyze | head -1", 120)
    return r


def main():
    results = {}
    for name, image in (("appliance", APPLIANCE), ("reference", REFERENCE)):
        if not os.path.exists(os.path.join(image, "run.sh")):
            print(f"{name}: no image in {image} (packaging/vm/build-image.sh{' --variant reference' if name == 'reference' else ''})")
            sys.exit(1)
        runs = []
        for i in range(RUNS):
            r = boot_once(name, image)
            print(f"{name} run {i + 1}: " + json.dumps({k: (round(v, 3) if isinstance(v, float) else v) for k, v in r.items()}), flush=True)
            runs.append(r)
        results[name] = runs
        with open(os.path.join(image, "image.json")) as f:
            results[name + "_image"] = json.load(f)

    def med(name, key):
        return statistics.median(r[key] for r in results[name])

    a, ref = "appliance", "reference"
    print(f"\nVM boot, accelerator {results[a][0]['accel']}, median of {RUNS} run(s); seconds from QEMU start unless noted")
    print(f"{'':44}{'appliance':>12}{'reference':>12}{'ratio':>8}")
    rows = [("guest kernel starts", "kernel_start"), ("kernel -> systemd handover", "handover"),
            ("serving unit(s) started by systemd", "unit_start"), ("serving unit(s) active (READY=1 for notify)", "unit_active"),
            ("first 200 on /health", "health"), ("first screenshot (200 on /screenshot)", "screenshot"),
            ("first kernel result (6*7)", "kernel")]
    for label, key in rows:
        x, y = med(a, key), med(ref, key)
        print(f"{label:44}{x:12.2f}{y:12.2f}{x / y:8.2f}")
    x, y = med(a, "health") - med(a, "unit_start"), med(ref, "health") - med(ref, "unit_start")
    print(f"{'unit exec -> first 200 on /health, s':44}{x:12.2f}{y:12.2f}{x / y:8.2f}")
    x, y = med(a, "unit_ready_ms"), med(ref, "unit_ready_ms")
    print(f"{'unit exec -> active, ms (in the guest)':44}{x:12.0f}{y:12.0f}{(x / y if y else float('nan')):8.2f}")
    print(f"{'  unit types':44}{','.join(results[a][0]['types']):>12}{','.join(results[ref][0]['types']):>12}")
    x, y = med(a, "rss_mb"), med(ref, "rss_mb")
    print(f"{'RSS of the serving process(es), MB':44}{x:12.1f}{y:12.1f}{x / y:8.2f}")
    x, y = med(a, "cgroup_mb"), med(ref, "cgroup_mb")
    print(f"{'unit cgroup memory (kernels included), MB':44}{x:12.1f}{y:12.1f}{x / y:8.2f}")
    ai, ri = results[a + "_image"], results[ref + "_image"]
    mb = 1048576
    print(f"{'root filesystem, MB':44}{ai['root_bytes'] / mb:12.1f}{ri['root_bytes'] / mb:12.1f}{ai['root_bytes'] / ri['root_bytes']:8.2f}")
    print(f"{'disk image allocated, MB':44}{ai['disk_allocated_bytes'] / mb:12.1f}{ri['disk_allocated_bytes'] / mb:12.1f}")
    print(f"{'serving stack beyond the shared base, MB':44}{ai['stack_bytes'] / mb:12.1f}{ri['stack_bytes'] / mb:12.1f}"
          f"{ai['stack_bytes'] / ri['stack_bytes']:8.2f}")
    print(f"{'  share of the root filesystem':44}{100 * ai['stack_bytes'] / ai['root_bytes']:11.1f}%{100 * ri['stack_bytes'] / ri['root_bytes']:11.1f}%")
    print(f"\nshared base root (kernel, systemd, Xvfb, X libraries, python3 + ipykernel): {ai['base_root_bytes'] / mb:.1f} MB")
    print("systemd-analyze (appliance): " + results[a][0]["analyze"].strip())
    print("systemd-analyze (reference): " + results[ref][0]["analyze"].strip())


main()
