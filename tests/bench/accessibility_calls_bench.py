#!/usr/bin/python3
"""What each kind of AT-SPI call costs the walked application: CPU per call (from
/proc/<pid>/task/*/schedstat, nanoseconds) and wall time, one blocking call at a time through the
accessibility bus (dbus-python), for every call kind a walk makes (Ping as the floor: a call that does
nothing), over the elements a walk would ask it of; then one Cache.GetItems of the whole application.
Shows whether the cost is in what a call asks or in dispatching it at all (docs/accessibility.md,
"Event-driven detail cache"). Starts its own Xvfb, session bus, at-spi-bus-launcher and gtk3-widget-factory.

Usage: tests/bench/accessibility_calls_bench.py [--calls 1500]
Needs: Xvfb, dbus, at-spi2-core, libatk-adaptor, gtk-3-examples, python3-dbus.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

import dbus

from benchlib import cpu_ns, start_widget_factory_desktop, stop

A = "org.a11y.atspi.Accessible"
PROPS = "org.freedesktop.DBus.Properties"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=1500)
    args = ap.parse_args()
    procs = []
    runtime = tempfile.mkdtemp(prefix="a11y-calls-")
    try:
        _, env = start_widget_factory_desktop(runtime, procs)
        address = env["DBUS_SESSION_BUS_ADDRESS"]
        pid = procs[-1].pid
        a11y = dbus.bus.BusConnection(address).get_object("org.a11y.Bus", "/org/a11y/bus").GetAddress(dbus_interface="org.a11y.Bus")
        b = dbus.bus.BusConnection(a11y)
        b.call_blocking("org.a11y.atspi.Registry", "/org/a11y/atspi/registry", "org.a11y.atspi.Registry", "RegisterEvent", "sass",
                        ("object:children-changed", [], ""))
        app = None
        for _ in range(150):
            for (name, path) in b.call_blocking("org.a11y.atspi.Registry", "/org/a11y/atspi/accessible/root", A, "GetChildren", "", ()):
                try:
                    if "widget" in str(b.call_blocking(name, path, PROPS, "Get", "ss", (A, "Name"))).lower():
                        app = str(name)
                except dbus.DBusException:
                    pass
            if app:
                break
            time.sleep(0.2)
        if not app:
            sys.exit("gtk3-widget-factory never appeared on the accessibility bus")
        time.sleep(2)
        objs = []

        def walk(path):
            ifs = b.call_blocking(app, path, A, "GetInterfaces", "", ())
            st = b.call_blocking(app, path, A, "GetState", "", ())
            objs.append((str(path), {str(i).rsplit(".", 1)[1] for i in ifs}, int(st[0])))
            for (_, p) in b.call_blocking(app, path, A, "GetChildren", "", ()):
                walk(p)

        walk("/org/a11y/atspi/accessible/root")
        showing = lambda o: (o[2] >> 30) & 1 and (o[2] >> 25) & 1  # visible and showing
        every = lambda o: True
        kinds = [
            ("Peer.Ping", every, lambda p: b.call_blocking(app, p, "org.freedesktop.DBus.Peer", "Ping", "", ())),
            ("GetRole", every, lambda p: b.call_blocking(app, p, A, "GetRole", "", ())),
            ("GetState", every, lambda p: b.call_blocking(app, p, A, "GetState", "", ())),
            ("GetInterfaces", every, lambda p: b.call_blocking(app, p, A, "GetInterfaces", "", ())),
            ("GetAll(Accessible)", every, lambda p: b.call_blocking(app, p, PROPS, "GetAll", "s", (A,))),
            ("GetChildren", every, lambda p: b.call_blocking(app, p, A, "GetChildren", "", ())),
            ("GetAttributes", every, lambda p: b.call_blocking(app, p, A, "GetAttributes", "", ())),
            ("GetExtents", lambda o: "Component" in o[1] and showing(o),
             lambda p: b.call_blocking(app, p, "org.a11y.atspi.Component", "GetExtents", "u", (0,))),
            ("GetText", lambda o: "Text" in o[1], lambda p: b.call_blocking(app, p, "org.a11y.atspi.Text", "GetText", "ii", (0, -1))),
            ("Value property", lambda o: "Value" in o[1],
             lambda p: b.call_blocking(app, p, PROPS, "Get", "ss", ("org.a11y.atspi.Value", "CurrentValue"))),
            ("GetActions", lambda o: "Action" in o[1], lambda p: b.call_blocking(app, p, "org.a11y.atspi.Action", "GetActions", "", ())),
            ("Action.GetName", lambda o: "Action" in o[1],
             lambda p: b.call_blocking(app, p, "org.a11y.atspi.Action", "GetName", "i", (0,))),
        ]
        print(f"gtk3-widget-factory: {len(objs)} elements; {args.calls} blocking calls of each kind through the bus")
        for name, select, call in kinds:
            targets = [o[0] for o in objs if select(o)]
            n = 0
            c0, t0 = cpu_ns(pid), time.perf_counter()
            while n < args.calls:
                for p in targets:
                    try:
                        call(p)
                    except dbus.DBusException:
                        pass
                    n += 1
            c1, t1 = cpu_ns(pid), time.perf_counter()
            print(f"  {name:20s} {len(targets):4d} per walk   application CPU {(c1 - c0) / n / 1000:6.1f} us/call   wall {(t1 - t0) / n * 1e6:6.1f} us/call")
        c0 = cpu_ns(pid)
        for _ in range(20):
            b.call_blocking(app, "/org/a11y/atspi/cache", "org.a11y.atspi.Cache", "GetItems", "", ())
        print(f"  {'Cache.GetItems':20s}    1 per walk   application CPU {(cpu_ns(pid) - c0) / 20 / 1000:6.1f} us/call")
    finally:
        stop(procs)


if __name__ == "__main__":
    main()
