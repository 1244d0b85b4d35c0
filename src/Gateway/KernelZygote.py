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

Fork safety: nothing here creates a ZeroMQ context, an event loop or a thread before fork; the check
below refuses to run (exit 3) if an import started a thread, and the appliance then execs kernels.
"""
import ctypes
import json
import os
import selectors
import signal
import sys
import threading

PR_SET_PDEATHSIG = 1


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

    def reap():
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            reply({"exit": pid, "status": status})

    def child(req):
        code = 1
        try:
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
            log = req.get("log")
            out = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644) if log else devnull
            os.dup2(devnull, 0)
            os.dup2(out, 1)
            os.dup2(out, 2)
            keep = {0, 1, 2}
            for name in os.listdir("/proc/self/fd"):
                fd = int(name)
                if fd not in keep:
                    try:
                        os.close(fd)
                    except OSError:
                        pass
            cwd = req.get("cwd")
            if cwd:
                os.chdir(cwd)
            os.environ.clear()
            os.environ.update(req["env"])
            # `python -m ipykernel_launcher` puts the working directory first on sys.path.
            sys.path.insert(0, os.getcwd())
            sys.argv = ["ipykernel_launcher"] + req["argv"]
            kernelapp.launch_new_instance()
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

    sel = selectors.DefaultSelector()
    sel.register(requests_fd, selectors.EVENT_READ, "req")
    sel.register(wake_r, selectors.EVENT_READ, "wake")
    reply({"ready": me})
    pending = b""
    while True:
        for key, _ in sel.select():
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
                try:
                    pid = os.fork()
                except OSError as e:
                    reply({"id": req.get("id"), "error": str(e)})
                    continue
                if pid == 0:
                    child(req)
                try:
                    os.setpgid(pid, pid)  # as the child does: a signal to the group right after this reply reaches it
                except OSError:
                    pass
                reply({"id": req["id"], "pid": pid})
        reap()


if __name__ == "__main__":
    main()
