"""Kernel zygote of the Sandbox appliance (shipped inside the binary, run as `python3 -c`).

Imports ipykernel (and with it IPython, zmq, tornado, jupyter_client) once, then forks one kernel per
request, so a kernel start costs a fork instead of an interpreter start and those imports.

Protocol, one JSON object per line:
  requests on fd 0:  {"id": N, "argv": [...], "env": {...}, "cwd": "...", "log": "..."|null}
                     argv is the kernel's argv after "python -m ipykernel_launcher" style prefix is
                     removed by the appliance: the arguments ipykernel's app parses (["-f", file]).
  replies on fd 1:   {"ready": PID} once, after the imports;
                     {"id": N, "pid": PID} or {"id": N, "error": "..."};
                     {"exit": PID, "status": WAIT_STATUS} when a kernel ends (the zygote reaps them).
The zygote exits when fd 0 closes (the appliance went away); the kernels die with it
(PR_SET_PDEATHSIG), as exec'd kernels die with the appliance.

A request usually goes to the spare: a child forked ahead of it (once the zygote has been idle for
SPARE_DELAY) that waits for its request on a pipe, so the fork is not on a kernel start's path. Without a
spare (two requests in quick succession) the zygote forks on the request. Either way the child does the
same thing with the request, and the pid reported is the kernel's.

Fork safety: nothing here creates a ZeroMQ context, an event loop or a thread before fork; the check
below refuses to run (exit 3) if an import started a thread, and the appliance then execs kernels.
"""
import ctypes
import gc
import json
import os
import selectors
import signal
import sys
import threading
import time

PR_SET_PDEATHSIG = 1


def prewarm():
    """Work every kernel would otherwise repeat between the fork and its first kernel_info_reply.

    Each step is optional (another ipykernel/IPython version may lack the module) and fork-safe: no
    thread, no ZeroMQ context, no open file or database is left behind.
    """
    import importlib
    # Imported lazily while a kernel starts (found by diffing sys.modules at the first kernel_info_reply).
    for name in ("faulthandler", "IPython.core.completerlib"):
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001  a missing module only means a slower start
            pass
    # jupyter_client finds this machine's addresses once per process, by running `ip addr` (a fork and exec
    # of a 60 MB process per kernel): the kernel asks for localhost() (its connection file's default ip).
    try:
        from jupyter_client.localinterfaces import localhost
        localhost()
    except Exception:  # noqa: BLE001
        pass
    # What exists now lives as long as the zygote: out of the collector's sight, a kernel's collections
    # neither walk it nor write to its pages (each write would copy a page the kernels share).
    gc.collect()
    gc.freeze()


def main():
    # Never import from the directory the zygote happened to start in.
    if sys.path and sys.path[0] == "":
        del sys.path[0]
    requests_fd = os.dup(0)
    replies_fd = os.dup(1)
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(2, 1)  # stray output of the zygote goes to the log (stderr)
    for fd in (requests_fd, replies_fd, devnull):
        os.set_inheritable(fd, False)

    from ipykernel import kernelapp  # noqa: F401  the point of the zygote
    import ipykernel.ipkernel  # noqa: F401
    import IPython.core.interactiveshell  # noqa: F401
    prewarm()

    if threading.active_count() != 1:
        os.write(replies_fd, b'{"unsafe": "an import started a thread"}\n')
        sys.exit(3)

    libc = ctypes.CDLL(None, use_errno=True)
    me = os.getpid()
    wake_r, wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # an interrupt is for a kernel's group, never the zygote

    def reply(obj):
        data = (json.dumps(obj) + "\n").encode()
        while data:
            data = data[os.write(replies_fd, data):]

    def prepare(keep_fd=None):
        """The part of a kernel's set-up that needs nothing from its request."""
        signal.set_wakeup_fd(-1)
        for s in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
            signal.signal(s, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGPIPE, signal.SIG_IGN)   # as the interpreter sets it at start-up
        signal.pthread_sigmask(signal.SIG_SETMASK, [])
        os.setpgid(0, 0)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != me:
            os._exit(1)
        # Nothing of the zygote's stays open in a kernel (a spare holds only the pipe its request comes on).
        keep = {0, 1, 2, devnull, keep_fd}
        for name in os.listdir("/proc/self/fd"):
            fd = int(name)
            if fd not in keep:
                try:
                    os.close(fd)
                except OSError:
                    pass

    def run(req):
        log = req.get("log")
        out = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644) if log else devnull
        os.dup2(devnull, 0)
        os.dup2(out, 1)
        os.dup2(out, 2)
        for fd in {devnull, out}:
            if fd > 2:
                os.close(fd)
        cwd = req.get("cwd")
        if cwd:
            os.chdir(cwd)
        os.environ.clear()
        os.environ.update(req["env"])
        # `python -m ipykernel_launcher` puts the working directory first on sys.path.
        sys.path.insert(0, os.getcwd())
        sys.argv = ["ipykernel_launcher"] + req["argv"]
        kernelapp.launch_new_instance()

    def child(req=None, request_fd=None):
        """A forked kernel: runs `req`, or (a spare) first waits for its request on `request_fd`."""
        code = 1
        try:
            prepare(request_fd)
            if req is None:
                line = b""
                while not line.endswith(b"\n"):
                    chunk = os.read(request_fd, 65536)
                    if not chunk:
                        os._exit(0)   # the zygote closed the pipe unused: the spare is not needed
                    line += chunk
                os.close(request_fd)
                req = json.loads(line)
            run(req)
            code = 0
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        except BaseException:
            import traceback
            traceback.print_exc()
        finally:
            try:
                sys.stdout.flush()
                sys.stderr.flush()
            finally:
                os._exit(code)

    # The spare: a child forked ahead of the next request, waiting for it on a pipe, so a kernel start
    # does not wait for the fork (a copy of the page tables of this ~60 MB process). Forked when the
    # zygote has been idle a moment (not while a kernel it just handed out competes for the CPU); it
    # holds nothing but that pipe, and dies with the zygote (PR_SET_PDEATHSIG) like every kernel.
    spare = None            # (pid, write end of its request pipe)
    spare_at = 0.0          # when to fork the next spare (time.monotonic()), None: not now
    SPARE_DELAY = 0.1
    spare_deaths = 0        # spares that died unused; after three, no more spares

    def fork_spare():
        r, w = os.pipe2(os.O_CLOEXEC)
        try:
            pid = os.fork()
        except OSError:
            os.close(r)
            os.close(w)
            return None
        if pid == 0:
            child(request_fd=r)
        os.close(r)
        try:
            os.setpgid(pid, pid)
        except OSError:
            pass
        return pid, w

    def hand_to_spare(line):
        """The spare's pid once it has the request; None when there is no spare or it is gone."""
        nonlocal spare
        if spare is None:
            return None
        pid, w = spare
        spare = None
        data = line + b"\n"
        try:
            while data:
                data = data[os.write(w, data):]
        except OSError:   # it died (EPIPE): a fresh fork serves this request
            pid = None
        finally:
            os.close(w)
        return pid

    def fork_kernel(req):
        pid = os.fork()
        if pid == 0:
            child(req)
        try:
            os.setpgid(pid, pid)  # as the child does: a signal to the group right after this reply reaches it
        except OSError:
            pass
        return pid

    def reap():
        nonlocal spare, spare_at, spare_deaths
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if spare is not None and spare[0] == pid:
                # Killed while it waited: another one in a while, unless spares keep dying (then forks only).
                os.close(spare[1])
                spare = None
                spare_deaths += 1
                spare_at = time.monotonic() + 1.0 if spare_deaths < 3 else None
                continue
            reply({"exit": pid, "status": status})

    sel = selectors.DefaultSelector()
    sel.register(requests_fd, selectors.EVENT_READ, "req")
    sel.register(wake_r, selectors.EVENT_READ, "wake")
    reply({"ready": me})
    pending = b""
    while True:
        timeout = None
        if spare is None and spare_at is not None:
            timeout = max(0.0, spare_at - time.monotonic())
        events = sel.select(timeout)
        if not events and spare is None and spare_at is not None:
            spare = fork_spare()
            spare_at = None if spare is not None else time.monotonic() + 1.0
        for key, _ in events:
            if key.data == "wake":
                try:
                    while os.read(wake_r, 512):
                        pass
                except BlockingIOError:
                    pass
                reap()
                continue
            chunk = os.read(requests_fd, 65536)
            if not chunk:
                os._exit(0)
            pending += chunk
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                if not line.strip():
                    continue
                req = json.loads(line)
                pid = hand_to_spare(line)
                if pid is None:
                    try:
                        pid = fork_kernel(req)
                    except OSError as e:
                        reply({"id": req.get("id"), "error": str(e)})
                        continue
                reply({"id": req["id"], "pid": pid})
                if spare_deaths < 3:
                    spare_at = time.monotonic() + SPARE_DELAY
        reap()


if __name__ == "__main__":
    main()
