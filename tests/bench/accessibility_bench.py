#!/usr/bin/python3
"""Accessibility benchmark: the full desktop tree with gtk3-widget-factory open, the published
appliance's GET /accessibility (OSWorld's answer) and /accessibility/tree against a pyatspi walk
(OSWorld's way: one blocking call per property) of the same desktop, same run; find by role and name;
the appliance's RSS before and after using the area. Then Chromium (in a window, with
--force-renderer-accessibility) opens a known page of 2,003 document elements (a11y_page.py) on the same
desktop: its tree through the appliance against pyatspi walking Chromium, and RSS once more.

Starts its own Xvfb, session bus (dbus-daemon), at-spi-bus-launcher and gtk3-widget-factory with
GTK_MODULES=gail:atk-bridge. Prints medians, p90 and ratios; never fails on time.
Usage: tests/bench/accessibility_bench.py [--runs 50] [--binary out/sandbox] [--no-chromium]
Needs: Xvfb, dbus, at-spi2-core, libatk-adaptor, gtk-3-examples, python3-pyatspi, python3-lxml, chromium.
"""
import argparse
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

from benchlib import PY, ROOT, free_port, start_xvfb, rss_kb, median_p90 as stats, start_atspi_with_widget_factory

REFERENCE = os.path.join(ROOT, "tests", "Sandbox.E2E", "Accessibility", "pyatspi_reference.py")
PAGE = os.path.join(ROOT, "tests", "Sandbox.E2E", "Accessibility", "a11y_page.py")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--binary", default=os.path.join(ROOT, "out", "sandbox"))
    ap.add_argument("--no-chromium", action="store_true")
    args = ap.parse_args()

    procs = []
    runtime = tempfile.mkdtemp(prefix="a11y-bench-")
    shared = tempfile.mkdtemp(prefix="a11y-bench-shared-")
    try:
        xvfb, display = start_xvfb("1280x800x24")
        procs.append(xvfb)
        bus = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--print-address=1", f"--address=unix:tmpdir={runtime}"],
                               stdout=subprocess.PIPE, text=True)
        procs.append(bus)
        address = bus.stdout.readline().strip()
        env = {**os.environ, "DISPLAY": display, "DBUS_SESSION_BUS_ADDRESS": address, "XDG_RUNTIME_DIR": runtime,
               "GDK_BACKEND": "x11", "GTK_THEME": "Adwaita"}
        env.pop("AT_SPI_BUS_ADDRESS", None)
        env.pop("NO_AT_BRIDGE", None)
        start_atspi_with_widget_factory(env, procs)
        port = free_port()
        app = subprocess.Popen([args.binary], env={**env, "HOST": "127.0.0.1", "PORT": str(port), "SHARED_DIR": shared,
                                                   "JUPYTER_KERNEL_GATEWAY_APP_PORT": str(free_port()), "KG_PRESPAWN_COUNT": "0"},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(app)
        conn = None
        for _ in range(300):
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                conn.request("GET", "/accessibility/tree?format=text")
                r = conn.getresponse()
                body = r.read().decode()
                if r.status == 200 and "gtk3-widget-factory" in body and body.count("\n") > 200:
                    break
            except OSError:
                pass
            time.sleep(0.2)
        else:
            sys.exit("the appliance never showed the widget factory's tree")

        def get(path):
            t0 = time.perf_counter()
            conn.request("GET", path)
            r = conn.getresponse()
            body = r.read()
            if r.status != 200:
                sys.exit(f"GET {path}: {r.status} {body[:200]!r}")
            return (time.perf_counter() - t0) * 1000, body

        # RSS before using the area beyond the start-up probe above, then after many walks.
        rss_before = rss_kb(app.pid)
        _, body = get("/accessibility")
        at = json.loads(body)["AT"]
        elements = at.count("<") - at.count("</")  # opening tags (self-closing included)
        osworld = [get("/accessibility")[0] for _ in range(args.runs)]
        tree = [get("/accessibility/tree")[0] for _ in range(args.runs)]
        text = [get("/accessibility/tree?format=text")[0] for _ in range(args.runs)]
        find = [get("/accessibility/find?role=push%20button&name=Close&match=exact")[0] for _ in range(args.runs)]
        rss_warm = rss_kb(app.pid)
        for _ in range(400):
            get("/accessibility")
        rss_busy = rss_kb(app.pid)
        time.sleep(1.5)  # what the area keeps once the burst is over (it gives the walks' heap back after 0.5 s idle)
        rss_after = rss_kb(app.pid)

        ref = json.loads(subprocess.run([PY, REFERENCE, "--time", str(max(6, args.runs // 5))], env=env,
                                        capture_output=True, text=True, check=True).stdout)
        ref_ms = ref["ms"]

        print(f"accessibility benchmark: gtk3-widget-factory desktop, {elements} elements in ours, "
              f"{ref['elements']} in the pyatspi walk; {args.runs} runs")
        # The first walk of a process is cold; later ones reuse libatspi's cache of names, roles and states.
        cold, warm = ref_ms[0], ref_ms[1:]
        m_ref, p_ref = stats(warm)
        for label, series in (("GET /accessibility (OSWorld XML)", osworld), ("GET /accessibility/tree (json)", tree),
                              ("GET /accessibility/tree?format=text", text), ("GET /accessibility/find role+name", find)):
            m, p = stats(series)
            print(f"  {label:40s} median {m:7.1f} ms  p90 {p:7.1f} ms  ({m_ref / m:5.1f}x pyatspi warm, {cold / m:5.1f}x cold)")
        print(f"  {'pyatspi walk, warm (OSWorld server way)':40s} median {m_ref:7.1f} ms  p90 {p_ref:7.1f} ms  ({len(warm)} runs)")
        print(f"  {'pyatspi walk, first in its process':40s} {cold:7.1f} ms")
        print(f"  appliance RSS: {rss_before / 1024:.1f} MB before, {rss_warm / 1024:.1f} MB after {4 * args.runs + 1} "
              f"accessibility requests (+{(rss_warm - rss_before) / 1024:.1f} MB), {rss_busy / 1024:.1f} MB right after 400 more, "
              f"{rss_after / 1024:.1f} MB 1.5 s later (+{(rss_after - rss_before) / 1024:.1f} MB in all)")
        sys.stdout.flush()
        if args.no_chromium:
            return

        # Chromium with the known page on the same desktop.
        page = os.path.join(runtime, "page.html")
        subprocess.run([PY, PAGE, page, "250"], check=True)
        procs.append(subprocess.Popen(["chromium", "--no-sandbox", "--test-type", "--no-first-run", "--no-default-browser-check",
                                       "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                                       "--disable-sync", "--password-store=basic", "--force-renderer-accessibility",
                                       f"--user-data-dir={os.path.join(runtime, 'chromium')}", "--window-position=0,0",
                                       "--window-size=1280,800", "file://" + page], env=env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        for _ in range(600):
            _, body = get("/accessibility/find?role=check%20box&name=Check%20249&match=exact&app=Chromium")
            if json.loads(body)["count"] == 1:
                break
            time.sleep(0.2)
        else:
            sys.exit("the appliance never showed the Chromium page")
        _, body = get("/accessibility/tree?app=Chromium")
        chromium_elements = json.loads(body)["elements"]
        runs = max(10, args.runs // 2)
        rss_c0 = rss_kb(app.pid)
        ctree = [get("/accessibility/tree?app=Chromium")[0] for _ in range(runs)]
        cdesk = [get("/accessibility")[0] for _ in range(runs)]
        cfind = [get("/accessibility/find?role=push%20button&name=Button%20200&match=exact")[0] for _ in range(runs)]
        rss_c1 = rss_kb(app.pid)
        for _ in range(100):
            get("/accessibility/tree?app=Chromium")
        rss_c2 = rss_kb(app.pid)
        time.sleep(1.5)
        rss_c3 = rss_kb(app.pid)
        cref = json.loads(subprocess.run([PY, REFERENCE, "--app", "Chromium", "--time", "4"], env=env,
                                         capture_output=True, text=True, check=True).stdout)
        m_cref, _ = stats(cref["ms"][1:])
        print(f"Chromium page (2,003 document elements): {chromium_elements} elements in Chromium's tree in ours, "
              f"{cref['elements']} in the pyatspi walk; {runs} runs")
        for label, series in (("GET /accessibility/tree?app=Chromium", ctree), ("GET /accessibility (whole desktop)", cdesk),
                              ("GET /accessibility/find role+name", cfind)):
            m, p = stats(series)
            print(f"  {label:40s} median {m:7.1f} ms  p90 {p:7.1f} ms  ({m_cref / m:5.1f}x pyatspi warm)")
        print(f"  {'pyatspi walk of Chromium, warm':40s} median {m_cref:7.1f} ms  ({len(cref['ms']) - 1} runs; first {cref['ms'][0]:.1f} ms)")
        print(f"  appliance RSS: {rss_c0 / 1024:.1f} MB with Chromium open, {rss_c1 / 1024:.1f} MB after {3 * runs} requests, "
              f"{rss_c2 / 1024:.1f} MB right after 100 more Chromium trees, {rss_c3 / 1024:.1f} MB 1.5 s later "
              f"(+{(rss_c3 - rss_before) / 1024:.1f} MB since the first request)")
    finally:
        for p in reversed(procs):
            try:
                p.terminate()
                p.wait(10)
            except Exception:
                p.kill()
        shutil.rmtree(runtime, ignore_errors=True)
        shutil.rmtree(shared, ignore_errors=True)


if __name__ == "__main__":
    main()
