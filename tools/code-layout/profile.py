#!/usr/bin/python3
"""Writes native/code-order.txt: the order of the appliance's managed methods in its code section, hot paths first.

Why (docs/performance.md, "Fourth round: code layout"): the kernel maps an executable's cached pages 64 KiB at a
time around each page the process touches (fault-around), so a hot path whose methods are spread over the 10 MB
of managed code makes most of it resident. ILC lays methods out in the order a file names them
(`IlcOrderFile`, `--method-layout:explicit`); methods it does not name follow in its default order.

How: the published binary (copied, so no other process shares its page cache) runs with madv_random.c preloaded
and the disk's readahead at 4 KiB, so its resident pages are exactly the pages it touched. The pages of
`__managedcode` are read from /proc/PID/pagemap after each phase of a typical agent session, and each method
(its extent from the symbols in sandbox.dbg) is put in the group of the first phase that touched a page of it:

  1. screenshots (PNG and JPEG, json/image/base64, region, downscale; changed and unchanged screen), with what
     every request runs (Kestrel, routing, the guard, JSON): after the start-up pages were released, as in service
  2. computer actions (clicks, typing, keys, scrolling, a drag, a batch) and the small GET endpoints
  3. processes and files
  4. a kernel through the gateway (start, execute over the WebSocket, delete), when ipykernel is installed
  5. the accessibility tree (every format, find, at) of gtk3-widget-factory, when the AT-SPI bus is installed
  6. start-up only (a second run, with the start-up release off)

Run as root (it sets the disk's readahead for the run and puts it back), on an idle machine, after
./build-aot.sh; then rebuild. Needs Xvfb, xdotool, python3-xlib, cc; python3-websocket and python3-ipykernel for
phase 4; dbus, at-spi2-core and gtk-3-examples for phase 5. Regenerate after larger changes: methods the file no longer names (renamed, new) go to the cold end,
which costs memory, never correctness.

  sudo /usr/bin/python3 tools/code-layout/profile.py [--binary out/publish/sandbox] [--out native/code-order.txt]
"""
import argparse
import bisect
import ctypes
import http.client
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "bench"))
from benchlib import free_port, paint, start_widget_factory_desktop, start_xvfb, stop, wait_ok  # noqa: E402

PAGE = 4096
SECTION = "__managedcode"


def section_range(elf, name):
    out = subprocess.run(["readelf", "-SW", elf], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        parts = line.replace("[ ", "[").split()
        if len(parts) > 5 and parts[1] == name:
            start = int(parts[3], 16)
            return start, start + int(parts[5], 16)
    raise SystemExit(f"{elf} has no {name} section")


def methods(symbols, lo, hi):
    """(address, end, name) of every named symbol in [lo, hi): its extent runs to the next symbol's address."""
    out = subprocess.run(["nm", "-n", "--defined-only", symbols], capture_output=True, text=True, check=True).stdout
    named = []
    for line in out.splitlines():
        addr, _, name = line.split(" ", 2)
        a = int(addr, 16)
        if lo <= a < hi and not name.startswith("__"):
            named.append((a, name))
    starts = sorted({a for a, _ in named}) + [hi]
    return [(a, starts[bisect.bisect_right(starts, a)], n) for a, n in named]


def resident_pages(pid, exe, lo, hi):
    """The pages of [lo, hi) (file addresses) resident in the process, from its maps and pagemap."""
    mappings, base = [], None
    with open(f"/proc/{pid}/maps") as f:
        for line in f:
            p = line.split()
            if len(p) >= 6 and p[5] == exe:
                start, end = (int(x, 16) for x in p[0].split("-"))
                if base is None:
                    base = start - int(p[2], 16)
                mappings.append((start, end))
    pages = set()
    with open(f"/proc/{pid}/pagemap", "rb") as f:
        for start, end in mappings:
            first, last = max(start, base + lo) // PAGE, (min(end, base + hi) + PAGE - 1) // PAGE
            if first >= last:
                continue
            f.seek(first * 8)
            data = f.read((last - first) * 8)
            for i in range(last - first):
                if struct.unpack_from("<Q", data, i * 8)[0] >> 63:
                    pages.add((first + i) * PAGE - base)
    return pages


def page_out(pid, exe, lo, hi):
    """Unmaps [lo, hi) of the executable from the process (process_madvise MADV_PAGEOUT) and drops it from the page cache."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    pidfd = libc.syscall(434, ctypes.c_int(pid), ctypes.c_uint(0))  # pidfd_open
    if pidfd < 0:
        raise OSError(ctypes.get_errno(), "pidfd_open")
    try:
        with open(f"/proc/{pid}/maps") as f:
            spans = [tuple(int(x, 16) for x in line.split()[0].split("-")) for line in f if line.split()[-1] == exe]
        iov = (ctypes.c_void_p * 2)()
        for start, end in spans:
            iov[0], iov[1] = start, end - start
            if libc.syscall(440, ctypes.c_int(pidfd), iov, ctypes.c_size_t(1), ctypes.c_int(21), ctypes.c_uint(0)) < 0:
                raise OSError(ctypes.get_errno(), "process_madvise(MADV_PAGEOUT)")  # 440, 21: x86-64
    finally:
        os.close(pidfd)
    fd = os.open(exe, os.O_RDONLY)
    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    os.close(fd)
    left = len(resident_pages(pid, exe, lo, hi))
    if left * PAGE > 256 * 1024:
        print(f"note: {left * PAGE // 1024} KiB of code mapped again right after the page-out (code running then)", file=sys.stderr)


class ReadaheadAt4K:
    """The backing disk's readahead set to 4 KiB for the run (the exec's own read would fill the page cache)."""

    def __init__(self, path):
        dev = os.stat(path).st_dev
        d = os.path.realpath(f"/sys/dev/block/{os.major(dev)}:{os.minor(dev)}")
        self.knob = next((os.path.join(x, "queue", "read_ahead_kb") for x in (d, os.path.dirname(d))
                          if os.path.exists(os.path.join(x, "queue", "read_ahead_kb"))), None)
        self.saved = None

    def __enter__(self):
        if self.knob is None:
            print("warning: no block device behind the scratch copy; granularity is the readahead's", file=sys.stderr)
            return self
        with open(self.knob) as f:
            self.saved = f.read().strip()
        try:
            with open(self.knob, "w") as f:
                f.write("4")
        except OSError as e:
            print(f"warning: cannot set {self.knob} ({e}); run as root for page granularity", file=sys.stderr)
            self.saved = None
        return self

    def __exit__(self, *exc):
        if self.saved is not None:
            with open(self.knob, "w") as f:
                f.write(self.saved)


class Http:
    def __init__(self, port):
        self.port = port
        self.c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def call(self, method, path, body=None, headers=None, ok=(200, 201, 204)):
        if isinstance(body, (dict, list)):
            body, headers = json.dumps(body).encode(), {"Content-Type": "application/json", **(headers or {})}
        self.c.request(method, path, body, headers or {})
        r = self.c.getresponse()
        data = r.read()
        if r.status not in ok:
            raise RuntimeError(f"{method} {path} -> {r.status}: {data[:300]!r}")
        return data


def screenshots(api, display, env):
    for scene in ("office.png", "photo.png"):
        paint(display, scene)
        for i in range(12):
            subprocess.run(["xdotool", "mousemove", str(40 + 7 * i), str(40 + 3 * i)], env=env, check=True)
            api.call("GET", "/screenshot" + ("?response=image" if i % 2 else ""))
            api.call("GET", "/screenshot?response=image")  # unchanged: the kept encode
            api.call("GET", "/health")  # what harnesses poll between steps
            api.call("GET", "/readyz")
        api.call("GET", "/screenshot?format=jpeg&quality=80&response=image")
        api.call("GET", "/screenshot?response=base64&max_width=1280")
        api.call("GET", "/screenshot?region=100,100,640,480&response=image&annotate=false")


def actions(api):
    act = lambda a: api.call("POST", "/computer/action", a)  # noqa: E731
    for i in range(10):
        act({"action": "left_click", "coordinate": [200 + 10 * i, 200]})
    act({"action": "double_click", "coordinate": [300, 300]})
    act({"action": "right_click", "coordinate": [300, 300]})
    act({"action": "mouse_move", "coordinate": [400, 400]})
    act({"action": "type", "text": "hello, world; Grüße ✓"})
    act({"action": "key", "text": "ctrl+a"})
    act({"action": "scroll", "coordinate": [500, 500], "scroll_direction": "down", "scroll_amount": 3})
    act({"action": "left_click_drag", "start_coordinate": [100, 100], "coordinate": [300, 200]})
    api.call("POST", "/computer/actions", {"actions": [{"action": "left_click", "coordinate": [10, 10]},
                                                       {"action": "key", "text": "Escape"}]})
    for path in ("/cursor_position", "/screen_size", "/health"):
        api.call("GET", path)


def processes_and_files(api, scratch):
    for _ in range(3):
        api.call("POST", "/process/run", {"command": "echo profile; ls /"})
    f = os.path.join(scratch, "profile.txt")
    api.call("PUT", "/files?path=" + f, b"x" * 10000, {"Content-Type": "application/octet-stream"})
    api.call("GET", "/files?path=" + f)
    api.call("GET", "/files/stat?path=" + f)
    api.call("GET", "/files/list?path=" + scratch)
    api.call("DELETE", "/files?path=" + f)


def kernel(gw_port):
    import websocket  # python3-websocket
    gw = Http(gw_port)
    k = json.loads(gw.call("POST", "/api/kernels", {"name": "python3"}))
    ws = websocket.create_connection(f"ws://127.0.0.1:{gw_port}/api/kernels/{k['id']}/channels", timeout=60)
    for i in range(3):
        msg_id = f"profile-{i}"
        ws.send(json.dumps({"header": {"msg_id": msg_id, "msg_type": "execute_request", "username": "", "session": "p",
                                       "version": "5.3", "date": ""}, "parent_header": {}, "metadata": {},
                            "content": {"code": "print(6 * 7)", "silent": False}, "channel": "shell"}))
        while True:
            m = json.loads(ws.recv())
            if m.get("parent_header", {}).get("msg_id") == msg_id and m["msg_type"] == "status" \
                    and m["content"]["execution_state"] == "idle":
                break
    ws.close()
    gw.call("DELETE", f"/api/kernels/{k['id']}")


def accessibility(api):
    for _ in range(3):
        for path in ("/accessibility", "/accessibility/tree", "/accessibility/tree?format=text",
                     "/accessibility/tree?format=xml", "/accessibility/find?role=push%20button&name=Button&match=substring",
                     "/accessibility/at?x=300&y=300"):
            api.call("GET", path, ok=(200, 404))  # at: 404 when no element is there


def start(copy, preload, display, env, scratch, gw_port, after_first_answer=None, **extra):
    """Starts the copy; once /readyz answers and the deferred start-up work is done (1 s), returns it and a client."""
    port = free_port()
    p = subprocess.Popen([copy], env={**env, "LD_PRELOAD": preload, "HOST": "127.0.0.1", "PORT": str(port),
                                      "SHARED_DIR": scratch, "JUPYTER_KERNEL_GATEWAY_APP_HOST": "127.0.0.1",
                                      "JUPYTER_KERNEL_GATEWAY_APP_PORT": str(gw_port), "KG_PRESPAWN_COUNT": "0", **extra},
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_ok(port, p, "/health")
    if after_first_answer:
        after_first_answer(p)
    wait_ok(port, p, "/readyz", timeout=60)
    time.sleep(1.0)
    return p, Http(port)


def page_out_at_release(copy, lo, hi):
    """Waits for the appliance's start-up release (its resident code falls) and pages the code out at once, so
    what is resident a second later is the work that runs after it, not the start-up pages fault-around maps back."""
    def wait(p):
        top, t0 = 0, time.monotonic()
        while time.monotonic() - t0 < 20:
            n = len(resident_pages(p.pid, copy, lo, hi))
            top = max(top, n)
            if n < top // 2:
                break
        else:
            print("warning: no start-up release seen", file=sys.stderr)
        page_out(p.pid, copy, lo, hi)
    return wait


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--binary", default=os.path.join(ROOT, "out", "publish", "sandbox"))
    ap.add_argument("--symbols", help="default: sandbox.dbg beside the binary")
    ap.add_argument("--out", default=os.path.join(ROOT, "native", "code-order.txt"))
    args = ap.parse_args()
    symbols = args.symbols or os.path.join(os.path.dirname(args.binary), "sandbox.dbg")
    lo, hi = section_range(args.binary, SECTION)
    if section_range(symbols, SECTION) != (lo, hi):
        raise SystemExit(f"{symbols} does not belong to {args.binary}")

    work = tempfile.mkdtemp(prefix="code-layout-", dir=os.path.join(ROOT, "out"))
    procs = []
    try:
        preload = os.path.join(work, "madv_random.so")
        subprocess.run(["cc", "-shared", "-fPIC", "-O2", "-o", preload, os.path.join(HERE, "madv_random.c")], check=True)
        copy = os.path.join(work, "sandbox")
        shutil.copyfile(args.binary, copy)
        os.chmod(copy, 0o755)
        fd = os.open(copy, os.O_RDONLY)
        os.fsync(fd)  # written back, so the preload can drop its cached pages
        os.close(fd)
        try:  # a desktop with the AT-SPI bus and gtk3-widget-factory, for the accessibility phase
            display, env = start_widget_factory_desktop(work, procs, screen="1920x1080x24")
        except Exception as e:
            print(f"no accessibility desktop ({type(e).__name__}: {e}); a plain Xvfb instead", file=sys.stderr)
            xvfb, display = start_xvfb()
            procs.append(xvfb)
            env = {k: v for k, v in os.environ.items() if k != "XAUTHORITY"}
            env["DISPLAY"] = display
        env.pop("LD_PRELOAD", None)
        scratch = os.path.join(work, "shared")
        os.makedirs(scratch)
        gw_port = free_port()
        groups = []
        with ReadaheadAt4K(copy):
            # Start-up first, in a run of its own (the release after start-up off, so all of it is still mapped).
            p, api = start(copy, preload, display, env, scratch, gw_port, SANDBOX_RELEASE_STARTUP_PAGES="false")
            procs.append(p)
            startup = resident_pages(p.pid, copy, lo, hi)
            phases = [("screenshots and every request's path", lambda: screenshots(api, display, env)),
                      ("actions and small GETs", lambda: actions(api)),
                      ("processes and files", lambda: processes_and_files(api, scratch)),
                      ("a kernel through the gateway", lambda: kernel(gw_port)),
                      ("the accessibility tree", lambda: accessibility(api))]
            for name, run in phases:
                # Each phase starts with none of the code mapped or cached: what it maps is what it touches
                # (pages it shares with the phases before it included).
                page_out(p.pid, copy, lo, hi)
                try:
                    run()
                except Exception as e:  # an optional phase (no ipykernel, no websocket module): said, skipped
                    print(f"phase '{name}' skipped: {type(e).__name__}: {e}", file=sys.stderr)
                groups.append((name, resident_pages(p.pid, copy, lo, hi)))
            stop([p])
            procs.remove(p)
            # The work after the start-up release (in service, resident from then on): runs as in service, with
            # the kernel gateway and without it.
            after = set()
            for gateway in ("builtin", "off"):
                p, _ = start(copy, preload, display, env, scratch, gw_port, after_first_answer=page_out_at_release(copy, lo, hi),
                             SANDBOX_KERNEL_GATEWAY=gateway)
                procs.append(p)
                after |= resident_pages(p.pid, copy, lo, hi)
                stop([p])
                procs.remove(p)
            groups.insert(1, ("after the start-up release", after))
            groups.append(("start-up only", startup))
        placed, lines = set(), []
        all_methods = methods(symbols, lo, hi)
        for name, pages in groups:
            count = size = 0
            for a, end, n in all_methods:
                if n in placed or not any(pg in pages for pg in range(a // PAGE * PAGE, end, PAGE)):
                    continue
                placed.add(n)
                lines.append(n)
                count, size = count + 1, size + end - a
            print(f"{name:40s} {len(pages) * PAGE / 1048576:6.2f} MB of pages  {count:6d} methods  {size / 1048576:6.2f} MB")
        total = sum(end - a for a, end, _ in all_methods)
        print(f"{'not ordered (cold)':40s} {'':17s}  {len(all_methods) - len(placed):6d} methods  "
              f"{(total - sum(end - a for a, end, n in all_methods if n in placed)) / 1048576:6.2f} MB")
        with open(args.out, "w") as f:
            f.write("# Managed method order for ILC (IlcOrderFile): written by tools/code-layout/profile.py; lines\n"
                    "# that name no method (this one) are skipped. Regenerate after larger changes.\n")
            f.write("\n".join(lines) + "\n")
        print(f"wrote {args.out}: {len(lines)} methods")
    finally:
        stop(procs)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
