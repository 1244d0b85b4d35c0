#!/usr/bin/python3
"""Boot test of the appliance's VM image (run by tests/Sandbox.E2E/Packaging/VmBootTests.cs).

    /usr/bin/python3 tests/vm/boot_check.py [IMAGE_DIR]     (default out/vm; IMAGE_DIR/run.sh boots it)

Boots the image with QEMU (TCG unless SANDBOX_VM_ACCEL says otherwise), then checks, printing one line
per check: the unit is Type=notify and became active (systemd only marks it so on READY=1) with the
appliance's STATUS= text; /health is ok with the display connected; a screenshot decodes to the guest's
screen size; a kernel answers 6*7; `systemctl stop sandbox.service` inside the guest ends the unit within
its TimeoutStopSec with result success and no kernel process left. Exit 0 when all passed.
No check depends on wall-clock speed; the generous timeouts only bound a guest that never comes up.
"""
import io
import os
import sys

from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vmlib import ROOT, Guest, http_200, kernel_result, until  # noqa: E402

image = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "out", "vm")
log = os.environ.get("SANDBOX_VM_LOG") or os.path.join(image, "boot-check.console.log")
BOOT_TIMEOUT = int(os.environ.get("SANDBOX_VM_BOOT_TIMEOUT", "900"))

with Guest(image, log_path=log) as g:
    print(f"vm: booting {image} (accel {g.accel}, console log {log})", flush=True)
    g.wait_shell(BOOT_TIMEOUT)
    until(lambda: g.sh("systemctl is-active sandbox.service", 60)[0].strip() in ("active", "failed"), BOOT_TIMEOUT,
          "sandbox.service active", g, interval=1)
    unit = g.show("sandbox.service", "Type", "NotifyAccess", "ActiveState", "SubState", "StatusText", "MainPID",
                  "TimeoutStopUSec", "WatchdogUSec")
    print(f"unit: Type={unit['Type']} ActiveState={unit['ActiveState']} SubState={unit['SubState']} "
          f"Watchdog={unit['WatchdogUSec']} STATUS={unit['StatusText']!r}", flush=True)
    if unit["Type"] != "notify" or unit["ActiveState"] != "active":
        print(g.sh("journalctl -b --no-pager -u sandbox.service -u sandbox-xvfb.service | tail -40", 60)[0])
        sys.exit(1)
    print("unit: ready via sd_notify", flush=True)

    base = f"http://127.0.0.1:{g.port}"
    health, _ = until(http_200(base + "/health", lambda r: r.json().get("display", {}).get("state") == "connected"),
                      300, "/health with the display connected", g)
    h = health.json()
    print(f"health: {h['status']}, display {h['display']['name']} {h['display']['state']} {h['display'].get('screen_size')}", flush=True)
    # The status the unit shows follows the display (the poll sends STATUS= when it changes).
    status, _ = until(lambda: (s := g.show("sandbox.service", "StatusText")["StatusText"]) and "connected" in s and s, 120,
                      "STATUS= naming the connected display", g, interval=1)
    print(f"unit: STATUS={status!r}", flush=True)

    shot, _ = until(http_200(base + "/screenshot?response=image"), 120, "a screenshot", g)
    img = Image.open(io.BytesIO(shot.content))
    img.load()
    w, h2 = h["display"]["screen_size"]
    print(f"screenshot: decoded {img.format} {img.size[0]}x{img.size[1]} (screen {w}x{h2})", flush=True)
    if img.size != (w, h2):
        sys.exit(1)

    # A kernel started while the guest is still busy booting may need minutes under TCG: retry until one answers.
    value, _ = until(lambda: kernel_result(g.kg_port, timeout=600), 1200, "a kernel result", g, interval=2)
    print(f"kernel: executed 6*7 -> {value}", flush=True)
    if value != "42":
        sys.exit(1)
    kernels_before = int(g.sh("grep -l '[i]pykernel' /proc/[0-9]*/cmdline 2>/dev/null | wc -l", 60)[0].strip() or 0)
    print(f"kernels running before stop: {kernels_before}", flush=True)

    out, _ = g.sh("a=$(cut -d' ' -f1 /proc/uptime); systemctl stop sandbox.service; echo rc=$?; b=$(cut -d' ' -f1 /proc/uptime); "
                  "echo took=$a,$b; systemctl show sandbox.service -p ActiveState -p Result -p TimeoutStopUSec; "
                  "echo kernels=$(grep -l '[i]pykernel' /proc/[0-9]*/cmdline 2>/dev/null | wc -l)", 300)
    kv = dict(l.split("=", 1) for l in out.splitlines() if "=" in l)
    a, b = (float(x) for x in kv["took"].split(","))
    timeout_s = kv["TimeoutStopUSec"]
    print(f"stop: rc={kv['rc']} ActiveState={kv['ActiveState']} Result={kv['Result']} took {b - a:.2f} s "
          f"(TimeoutStopSec {timeout_s}), kernels left {kv['kernels']}", flush=True)
    ok = kv["rc"] == "0" and kv["ActiveState"] in ("inactive", "failed") and kv["Result"] == "success" and kv["kernels"] == "0"
    if not ok:
        print(g.sh("journalctl -b --no-pager -u sandbox.service | tail -40", 60)[0])
        sys.exit(1)
    print("stop: ended within its timeout with no kernel left", flush=True)
print("vm boot check: passed", flush=True)
