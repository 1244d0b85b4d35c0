#!/usr/bin/python3
"""Accessibility benchmark: the full desktop tree with gtk3-widget-factory open, the published
appliance's GET /accessibility (OSWorld's answer) and /accessibility/tree against a pyatspi walk
(OSWorld's way: one blocking call per property) of the same desktop, same run; find by role and name;
the appliance's RSS before and after using the area; the CPU one walk costs the appliance and the walked
application (/proc utime+stime: steadier than wall time on a loaded machine). Then Chromium (in a window, with
--force-renderer-accessibility) opens a known page of 2,003 document elements (a11y_page.py) on the same
desktop: its tree through the appliance against pyatspi walking Chromium, and RSS once more.

Starts its own Xvfb, session bus (dbus-daemon), at-spi-bus-launcher and gtk3-widget-factory with
GTK_MODULES=gail:atk-bridge. Prints medians, p90 and ratios; never fails on time.
With --base-binary, a second appliance (an earlier build) serves the same desktop and every series is
measured on both, alternating request by request: before/after figures from the same run.
Usage: tests/bench/accessibility_bench.py [--runs 50] [--binary out/sandbox] [--base-binary OLD] [--no-chromium]
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

from benchlib import PY, ROOT, free_port, rss_kb, median_p90 as stats, start_widget_factory_desktop, stop

REFERENCE = os.path.join(ROOT, "tests", "Sandbox.E2E", "Accessibility", "pyatspi_reference.py")
PAGE = os.path.join(ROOT, "tests", "Sandbox.E2E", "Accessibility", "a11y_page.py")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--binary", default=os.path.join(ROOT, "out", "sandbox"))
    ap.add_argument("--base-binary", help="an earlier build, measured alongside on the same desktop")
    ap.add_argument("--no-chromium", action="store_true")
    args = ap.parse_args()

    procs = []
    runtime = tempfile.mkdtemp(prefix="a11y-bench-")
    shared = tempfile.mkdtemp(prefix="a11y-bench-shared-")
    try:
        _, env = start_widget_factory_desktop(runtime, procs)
        wf_pid = procs[-1].pid  # gtk3-widget-factory, the last process it started
        def start(binary):
            port = free_port()
            app = subprocess.Popen([binary], env={**env, "HOST": "127.0.0.1", "PORT": str(port), "SHARED_DIR": shared,
                                                  "JUPYTER_KERNEL_GATEWAY_APP_PORT": str(free_port()), "KG_PRESPAWN_COUNT": "0"},
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            procs.append(app)
            for _ in range(300):
                try:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                    conn.request("GET", "/accessibility/tree?format=text")
                    r = conn.getresponse()
                    body = r.read().decode()
                    if r.status == 200 and "gtk3-widget-factory" in body and body.count("\n") > 200:
                        return app, conn
                except OSError:
                    pass
                time.sleep(0.2)
            sys.exit(f"{binary}: the appliance never showed the widget factory's tree")

        # (label, process, connection): ours first, then the earlier build when asked for.
        apps = [("", *start(args.binary))]
        if args.base_binary:
            apps.append(("base ", *start(args.base_binary)))
            apps[0] = ("new ", apps[0][1], apps[0][2])

        def get(path, conn=None):
            conn = conn or apps[0][2]
            t0 = time.perf_counter()
            conn.request("GET", path)
            r = conn.getresponse()
            body = r.read()
            if r.status != 200:
                sys.exit(f"GET {path}: {r.status} {body[:200]!r}")
            return (time.perf_counter() - t0) * 1000, body

        def series(path, n):
            """n timings of path on every appliance, alternating request by request: one list per appliance."""
            out = [[] for _ in apps]
            for _ in range(n):
                for i, (_, _, conn) in enumerate(apps):
                    out[i].append(get(path, conn)[0])
            return out

        def cpu_ms(pid):
            """utime + stime of a process so far, ms."""
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")

        def cpu_per_walk(path, n, target_pid):
            """CPU ms per request of each appliance and of the walked application (n requests per appliance, one
            appliance at a time so that the application's CPU is charged to one of them)."""
            out = []
            for _, app, conn in apps:
                get(path, conn)
                a0, t0 = cpu_ms(app.pid), cpu_ms(target_pid)
                for _ in range(n):
                    get(path, conn)
                out.append(((cpu_ms(app.pid) - a0) / n, (cpu_ms(target_pid) - t0) / n))
            return out

        def rss_all():
            return [rss_kb(app.pid) for _, app, _ in apps]

        # RSS before using the area beyond the start-up probe above, then after many walks.
        rss_before = rss_all()
        _, body = get("/accessibility")
        at = json.loads(body)["AT"]
        elements = at.count("<") - at.count("</")  # opening tags (self-closing included)
        osworld = series("/accessibility", args.runs)
        tree = series("/accessibility/tree", args.runs)
        text = series("/accessibility/tree?format=text", args.runs)
        find = series("/accessibility/find?role=push%20button&name=Close&match=exact", args.runs)
        wf_cpu = cpu_per_walk("/accessibility/tree?app=gtk3-widget-factory", args.runs, wf_pid)
        rss_warm = rss_all()
        series("/accessibility", 400)
        rss_busy = rss_all()
        time.sleep(1.5)  # what the area keeps once the burst is over
        rss_after = rss_all()

        ref = json.loads(subprocess.run([PY, REFERENCE, "--time", str(max(6, args.runs // 5))], env=env,
                                        capture_output=True, text=True, check=True).stdout)
        ref_ms = ref["ms"]

        print(f"accessibility benchmark: gtk3-widget-factory desktop, {elements} elements in ours, "
              f"{ref['elements']} in the pyatspi walk; {args.runs} runs")
        # The first walk of a process is cold; later ones reuse libatspi's cache of names, roles and states.
        cold, warm = ref_ms[0], ref_ms[1:]
        m_ref, p_ref = stats(warm)
        for label, runs in (("GET /accessibility (OSWorld XML)", osworld), ("GET /accessibility/tree (json)", tree),
                            ("GET /accessibility/tree?format=text", text), ("GET /accessibility/find role+name", find)):
            for i, (who, _, _) in enumerate(apps):
                m, p = stats(runs[i])
                print(f"  {who + label:45s} median {m:7.1f} ms  p90 {p:7.1f} ms  ({m_ref / m:5.1f}x pyatspi warm, {cold / m:5.1f}x cold)")
        for i, (who, _, _) in enumerate(apps):
            print(f"  {who}CPU per /accessibility/tree?app=gtk3-widget-factory: appliance {wf_cpu[i][0]:.1f} ms, "
                  f"gtk3-widget-factory {wf_cpu[i][1]:.1f} ms")
        print(f"  {'pyatspi walk, warm (OSWorld server way)':45s} median {m_ref:7.1f} ms  p90 {p_ref:7.1f} ms  ({len(warm)} runs)")
        print(f"  {'pyatspi walk, first in its process':45s} {cold:7.1f} ms")
        for i, (who, _, _) in enumerate(apps):
            print(f"  {who}appliance RSS: {rss_before[i] / 1024:.1f} MB before, {rss_warm[i] / 1024:.1f} MB after {4 * args.runs + 1} "
                  f"accessibility requests (+{(rss_warm[i] - rss_before[i]) / 1024:.1f} MB), {rss_busy[i] / 1024:.1f} MB right after 400 more, "
                  f"{rss_after[i] / 1024:.1f} MB 1.5 s later (+{(rss_after[i] - rss_before[i]) / 1024:.1f} MB in all)")
        sys.stdout.flush()
        if args.no_chromium:
            return

        # Chromium with the known page on the same desktop.
        page = os.path.join(runtime, "page.html")
        subprocess.run([PY, PAGE, page, "250"], check=True)
        chromium = subprocess.Popen(["chromium", "--no-sandbox", "--test-type", "--no-first-run", "--no-default-browser-check",
                                    "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                                    "--disable-sync", "--password-store=basic", "--force-renderer-accessibility",
                                    f"--user-data-dir={os.path.join(runtime, 'chromium')}", "--window-position=0,0",
                                    "--window-size=1280,800", "file://" + page], env=env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(chromium)
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
        for _, _, conn in apps[1:]:
            get("/accessibility/tree?app=Chromium", conn)  # the earlier build's first walk of Chromium (its direct connection)
        rss_c0 = rss_all()
        ctree = series("/accessibility/tree?app=Chromium", runs)
        cdesk = series("/accessibility", runs)
        cfind = series("/accessibility/find?role=push%20button&name=Button%20200&match=exact", runs)
        c_cpu = cpu_per_walk("/accessibility/tree?app=Chromium", runs, chromium.pid)
        rss_c1 = rss_all()
        series("/accessibility/tree?app=Chromium", 100)
        rss_c2 = rss_all()
        time.sleep(1.5)
        rss_c3 = rss_all()
        cref = json.loads(subprocess.run([PY, REFERENCE, "--app", "Chromium", "--time", "4"], env=env,
                                         capture_output=True, text=True, check=True).stdout)
        m_cref, _ = stats(cref["ms"][1:])
        print(f"Chromium page (2,003 document elements): {chromium_elements} elements in Chromium's tree in ours, "
              f"{cref['elements']} in the pyatspi walk; {runs} runs")
        for label, series_ in (("GET /accessibility/tree?app=Chromium", ctree), ("GET /accessibility (whole desktop)", cdesk),
                               ("GET /accessibility/find role+name", cfind)):
            for i, (who, _, _) in enumerate(apps):
                m, p = stats(series_[i])
                print(f"  {who + label:45s} median {m:7.1f} ms  p90 {p:7.1f} ms  ({m_cref / m:5.1f}x pyatspi warm)")
        for i, (who, _, _) in enumerate(apps):
            print(f"  {who}CPU per /accessibility/tree?app=Chromium: appliance {c_cpu[i][0]:.1f} ms, Chromium (browser process) {c_cpu[i][1]:.1f} ms")
        print(f"  {'pyatspi walk of Chromium, warm':45s} median {m_cref:7.1f} ms  ({len(cref['ms']) - 1} runs; first {cref['ms'][0]:.1f} ms)")
        for i, (who, _, _) in enumerate(apps):
            print(f"  {who}appliance RSS: {rss_c0[i] / 1024:.1f} MB with Chromium open, {rss_c1[i] / 1024:.1f} MB after {3 * runs} requests, "
                  f"{rss_c2[i] / 1024:.1f} MB right after 100 more Chromium trees, {rss_c3[i] / 1024:.1f} MB 1.5 s later "
                  f"(+{(rss_c3[i] - rss_before[i]) / 1024:.1f} MB since the first request)")
    finally:
        stop(procs)
        shutil.rmtree(runtime, ignore_errors=True)
        shutil.rmtree(shared, ignore_errors=True)


if __name__ == "__main__":
    main()
