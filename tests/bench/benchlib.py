"""Helpers shared by the benchmark scripts: free loopback ports, a private Xvfb, painted scenes."""
import http.client
import os
import socket
import subprocess
import statistics
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
SCENES = os.environ.get("SANDBOX_SCENES") or os.path.join(ROOT, "tests", "fixtures")
PY = "/usr/bin/python3"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def start_xvfb(screen="1920x1080x24"):
    """Starts Xvfb -noreset on a free display; returns (process, ":N") once it is ready."""
    r, w = os.pipe()
    p = subprocess.Popen(["Xvfb", "-displayfd", str(w), "-noreset", "-nolisten", "tcp", "-screen", "0", screen],
                         pass_fds=(w,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(w)
    buf = b""
    while not buf.endswith(b"\n"):
        chunk = os.read(r, 16)
        if not chunk:
            raise RuntimeError("Xvfb did not start")
        buf += chunk
    os.close(r)
    return p, ":" + buf.decode().strip()


def wait_ok(port, proc, path="/health", timeout=30.0):
    """Polls http://127.0.0.1:PORT/PATH until it answers 200; fails if the process exits first or time runs out."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"the appliance exited with {proc.returncode}")
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", path)
            if c.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.005)
    raise RuntimeError(f"no 200 on {path} within {timeout} s")


def paint(display, scene):
    subprocess.run([PY, os.path.join(ROOT, "tests", "Shared", "paint_root.py"), os.path.join(SCENES, scene)],
                   env={**os.environ, "DISPLAY": display}, check=True)


def rss_kb(pid):
    """A process's resident set (VmRSS) in KiB; 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except FileNotFoundError:
        pass
    return 0


def median_p90(ms):
    """(median, 90th percentile) of a list of timings."""

    s = sorted(ms)
    return statistics.median(s), s[min(len(s) - 1, int(len(s) * 0.9))]


def stop(procs, timeout=10):
    """Stops what a bench started, the last started first: SIGTERM to each, then a wait, SIGKILL when it outlives `timeout`."""
    for p in reversed(procs):
        p.terminate()
    for p in reversed(procs):
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def cpu_ns(pid):
    """CPU time of all of a process's threads so far (ns, from /proc/PID/task/*/schedstat): unlike wall
    time, hardly moved by other processes competing for the cores."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
        except (FileNotFoundError, ProcessLookupError):
            pass   # a thread that ended in between
    return total


def start_session_bus(runtime, procs):
    """A private session bus (dbus-daemon) with its socket in the directory `runtime`, appended to procs for the
    caller to stop; returns its address."""
    bus = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--print-address=1", f"--address=unix:tmpdir={runtime}"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    procs.append(bus)
    return bus.stdout.readline().strip()


def start_widget_factory_desktop(runtime, procs, screen="1280x800x24", **extra_env):
    """Xvfb, a private session bus in `runtime`, the AT-SPI bus and gtk3-widget-factory (all appended to procs for
    the caller to stop); returns (display, env): the environment of that desktop, for its clients."""
    xvfb, display = start_xvfb(screen)
    procs.append(xvfb)
    env = {**os.environ, "DISPLAY": display, "DBUS_SESSION_BUS_ADDRESS": start_session_bus(runtime, procs),
           "XDG_RUNTIME_DIR": runtime, "GDK_BACKEND": "x11", "GTK_THEME": "Adwaita", **extra_env}
    for k in ("AT_SPI_BUS_ADDRESS", "NO_AT_BRIDGE", "XAUTHORITY"):
        env.pop(k, None)
    start_atspi_with_widget_factory(env, procs)
    return display, env


def start_atspi_with_widget_factory(env, procs):
    """On a session bus already in env: the AT-SPI bus launcher (waited for until org.a11y.Bus answers),
    then gtk3-widget-factory with GTK's bridge. Both are appended to procs for the caller to stop."""
    procs.append(subprocess.Popen(["/usr/libexec/at-spi-bus-launcher", "--launch-immediately"], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    for _ in range(100):
        if subprocess.run(["dbus-send", "--session", "--print-reply", "--dest=org.a11y.Bus", "/org/a11y/bus",
                           "org.a11y.Bus.GetAddress"], env=env, capture_output=True).returncode == 0:
            break
        time.sleep(0.1)
    procs.append(subprocess.Popen(["gtk3-widget-factory"], env={**env, "GTK_MODULES": "gail:atk-bridge"},
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))

