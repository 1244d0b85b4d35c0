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
same thing with the request, and the pid reported is the kernel's. When the last two requests were alike
(environment, cwd, log; only the connection file differs) the spare guesses the next one and runs ipykernel's
start up to the connection file before it arrives (see fork_spare's comment).

Fork safety: nothing here creates a ZeroMQ context, an event loop or a thread before fork; the check
below refuses to run (exit 3) if an import started a thread, and the appliance then execs kernels.
"""
import ctypes
import gc
import json
import os
import select
import selectors
import signal
import sys
import threading
import time

PR_SET_PDEATHSIG = 1
ACK_TIMEOUT = 5.0    # seconds a guessing spare may take to reach the point it waits at (the appliance waits 10)
# The connection file a guessing spare's kernel app parses until its request brings the real one.
PLACEHOLDER = "kernel-zygote-spare.json"


def config_state(app):
    """What a kernel app read from the file system before it needs its connection file: the IPython and
    profile directories and every config file it looked for (a spare that read them is stale when one
    changed, appeared or went away since)."""
    def stat(path):
        try:
            st = os.stat(path)
        except OSError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size) if not os.path.isdir(path) else (st.st_ino,)
    names = ["ipython_config.py", *getattr(app, "config_files", []), getattr(app, "extra_config_file", "")]
    files = set()
    for name in filter(None, names):
        stem = name[:-3] if name.endswith(".py") else name
        for directory in getattr(app, "config_file_paths", []):
            files.update(os.path.join(directory, stem + ext) for ext in (".py", ".json"))
    profile = getattr(getattr(app, "profile_dir", None), "location", None)
    paths = sorted(files | {p for p in (profile, getattr(app, "ipython_dir", None)) if p})
    return [(p, stat(p)) for p in paths]


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

    def prepare(*keep_fds):
        """The part of a kernel's set-up that needs nothing from its request; `keep_fds` stay open (a spare's pipes)."""
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
        keep = {0, 1, 2, devnull, *(fd for fd in keep_fds if fd is not None)}
        for name in os.listdir("/proc/self/fd"):
            fd = int(name)
            if fd not in keep:
                try:
                    os.close(fd)
                except OSError:
                    pass

    def run(req, claim=None):
        """Runs the kernel of `req`. With `claim` (a spare's guess), `req` is the guess: the kernel app starts
        with a placeholder connection file and stops where ipykernel first needs the real one; claim() then
        waits for the request and returns it (a match of the guess: the zygote checked) or exits."""
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
        if claim is None:
            sys.argv = ["ipykernel_launcher"] + req["argv"]
        else:
            sys.argv = ["ipykernel_launcher", "-f", PLACEHOLDER]
            app_class = kernelapp.IPKernelApp
            real = app_class.__dict__.get("init_connection_file")

            def init_connection_file(app):
                if real is not None:
                    app_class.init_connection_file = real
                else:
                    del app_class.init_connection_file
                actual = claim(app)
                connection_file = actual["argv"][1]
                sys.argv = ["ipykernel_launcher"] + actual["argv"]
                # As if `-f <file>` had been parsed: the app's trait and the config it parsed it into.
                for config in (app.config, app.cli_config):
                    if "IPKernelApp" in config and config["IPKernelApp"].get("connection_file") == PLACEHOLDER:
                        config["IPKernelApp"]["connection_file"] = connection_file
                app.connection_file = connection_file
                return app.init_connection_file()

            app_class.init_connection_file = init_connection_file
        kernelapp.launch_new_instance()

    def read_request(request_fd):
        line = b""
        while not line.endswith(b"\n"):
            chunk = os.read(request_fd, 65536)
            if not chunk:
                os._exit(0)   # the zygote closed the pipe unused: the spare is not needed
            line += chunk
        os.close(request_fd)
        return json.loads(line)

    def same_files(req):
        """Whether the spare's working directory and log are still the ones `req` names (not replaced)."""
        try:
            if req.get("cwd") and not os.path.samestat(os.stat("."), os.stat(req["cwd"])):
                return False
            if req.get("log") and not os.path.samestat(os.fstat(1), os.stat(req["log"])):
                return False
        except OSError:
            return False
        return True

    def child(req=None, request_fd=None, guess=None, ack_fd=None):
        """A forked kernel: runs `req`, or (a spare) first waits for its request on `request_fd`.

        A spare with a `guess` (the previous request, see fork_spare) starts that kernel up to the point
        where the connection file is needed, then waits; when its request comes it tells the zygote on
        `ack_fd` whether what it read so far still holds (b"1") or not (b"0", then it exits)."""
        code = 1
        try:
            prepare(request_fd, ack_fd)
            if guess is not None:
                def claim(app):
                    before = config_state(app)
                    actual = read_request(request_fd)
                    ok = config_state(app) == before and same_files(actual)
                    os.write(ack_fd, b"1" if ok else b"0")
                    os.close(ack_fd)
                    if not ok:
                        os._exit(0)
                    return actual
                run(guess, claim)
            else:
                if req is None:
                    req = read_request(request_fd)
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
    #
    # After a request the next spare also guesses: the appliance builds every kernel's environment, working
    # directory and log the same way, so when two requests in a row differed only in their connection file,
    # the next one most likely will too. Such a spare applies the guessed request and runs ipykernel's start up to the point
    # where the connection file is first needed (command line, profile and IPython directories, config
    # files: ~10 ms of CPU), then waits. A request that matches the guess exactly (environment, cwd, log,
    # argv `-f FILE`) goes to it, and it goes on with the real connection file and argv as if it had parsed
    # them, after checking that no config file it read changed meanwhile (it answers on an ack pipe: b"1",
    # or b"0" and exits); any other request, or a stale spare, gets a fresh fork.
    spare = None            # (pid, write end of its request pipe, read end of its ack pipe, guess) or None
    spare_at = 0.0          # when to fork the next spare (time.monotonic()), None: not now
    SPARE_DELAY = 0.1
    spare_deaths = 0        # spares that died unused; after three, no more spares
    guess = None            # the request the next spare guesses
    last = None             # the last request (when it could be guessed)
    discarded = set()       # spares let go unused: their exits are reaped silently

    def guessable(req):
        argv = req.get("argv")
        return (isinstance(argv, list) and len(argv) == 2 and argv[0] == "-f" and isinstance(argv[1], str)
                and isinstance(req.get("env"), dict))

    def matches(g, req):
        return (guessable(req) and g.get("env") == req.get("env") and g.get("cwd") == req.get("cwd")
                and g.get("log") == req.get("log"))

    def fork_spare():
        r, w = os.pipe2(os.O_CLOEXEC)
        ack_r, ack_w = os.pipe2(os.O_CLOEXEC) if guess is not None else (None, None)
        try:
            pid = os.fork()
        except OSError:
            for fd in (r, w, ack_r, ack_w):
                if fd is not None:
                    os.close(fd)
            return None
        if pid == 0:
            child(request_fd=r, guess=guess, ack_fd=ack_w)
        os.close(r)
        if ack_w is not None:
            os.close(ack_w)
        try:
            os.setpgid(pid, pid)
        except OSError:
            pass
        return pid, w, ack_r, guess

    def let_go(pid, w, ack, kill=False):
        """Lets a spare go unused: it exits when its pipe closes (or is killed); its exit is not reported."""
        discarded.add(pid)
        if kill:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        for fd in (w, ack):
            if fd is not None:
                os.close(fd)

    def hand_to_spare(line, req):
        """The spare's pid once it has the request; None when there is no spare, it is gone or guessed wrong."""
        nonlocal spare
        if spare is None:
            return None
        pid, w, ack, g = spare
        spare = None
        if g is not None and not matches(g, req):
            let_go(pid, w, ack)
            return None
        data = line + b"\n"
        try:
            while data:
                data = data[os.write(w, data):]
        except OSError:   # it died (EPIPE): a fresh fork serves this request
            let_go(pid, None, ack)
            return None
        finally:
            os.close(w)
        if ack is None:
            return pid
        # A guessing spare answers once it has checked its config files (at once, or when it reaches the
        # point it waits at, if it is still starting).
        answer = b""
        try:
            ready, _, _ = select.select([ack], [], [], ACK_TIMEOUT)
            if ready:
                answer = os.read(ack, 1)
        except OSError:
            pass
        if answer != b"1":
            let_go(pid, None, ack, kill=not answer)
            return None
        os.close(ack)
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
            if pid in discarded:
                discarded.discard(pid)
                continue
            if spare is not None and spare[0] == pid:
                # Killed while it waited: another one in a while, unless spares keep dying (then forks only).
                os.close(spare[1])
                if spare[2] is not None:
                    os.close(spare[2])
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
                pid = hand_to_spare(line, req)
                if pid is None:
                    try:
                        pid = fork_kernel(req)
                    except OSError as e:
                        reply({"id": req.get("id"), "error": str(e)})
                        continue
                reply({"id": req["id"], "pid": pid})
                # Guess only what repeats: when this request matches the one before it (a gateway whose
                # requests each carry their own variable, say, keeps plain spares and wastes no start on them).
                guess = req if last is not None and matches(last, req) else None
                last = req if guessable(req) else None
                if spare_deaths < 3:
                    spare_at = time.monotonic() + SPARE_DELAY
        reap()


if __name__ == "__main__":
    main()
