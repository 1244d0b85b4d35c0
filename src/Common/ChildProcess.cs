using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Text;
using Sandbox.Native;

namespace Sandbox.Common;

/// <summary>What to start: an absolute executable, its argv, environment, directory and log file.</summary>
internal sealed record ChildStart(string File, IReadOnlyList<string> Argv, IReadOnlyDictionary<string, string> Env, string? Cwd, string? LogPath)
{
    /// <summary>Parent descriptors the child gets as its stdin, stdout and stderr (dup2'ed; -1 keeps the default:
    /// /dev/null for stdin, the log or the appliance's own for the others). They may be O_CLOEXEC.</summary>
    public int StdinFd { get; init; } = -1;
    public int StdoutFd { get; init; } = -1;
    public int StderrFd { get; init; } = -1;

    /// <summary>A terminal device (a pty's slave path): the child starts a new session and opens it as
    /// stdin/stdout/stderr, which makes it the session's controlling terminal. The std fds above are ignored.</summary>
    public string? Tty { get; init; }

    /// <summary>Called with the pid on the spawning thread right after the spawn, before anything else can
    /// happen to the appliance (the Processes area lists the new group with its guardian). Must not block.</summary>
    public Action<int>? Spawned { get; init; }
}

internal sealed class SpawnException(string message) : Exception(message);

/// <summary>
/// A child process in its own process group (so a signal reaches the kernel and whatever it started,
/// and never the appliance) or, with a terminal, its own session; reaped by waitpid on its pid alone (when its
/// pidfd turns readable, or by a thread of its own without pidfds), which leaves .NET's own SIGCHLD handling
/// for System.Diagnostics.Process untouched.
/// </summary>
internal sealed class ChildProcess
{
    private readonly TaskCompletionSource<int> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ChildProcess(int pid)
    {
        Pid = pid;
        // One epoll thread watches the pidfds of all children; without pidfds, a thread each.
        if (PidfdReaper.Instance?.Watch(this) == true) return;
        var reaper = new Thread(Reap) { IsBackground = true, Name = $"reap {pid}" };
        reaper.Start();
    }

    private ChildProcess(int pid, Task<int> exited)
    {
        Pid = pid;
        _ = exited.ContinueWith(t => _exited.TrySetResult(t.IsCompletedSuccessfully ? t.Result : 255 << 8), TaskScheduler.Default);
    }

    /// <summary>
    /// A process that another process of ours forked and reaps (a kernel of the zygote), whose wait
    /// status arrives through <paramref name="exited"/>; it is in its own process group like the others.
    /// </summary>
    public static ChildProcess Adopt(int pid, Task<int> exited) => new(pid, exited);

    public int Pid { get; }

    /// <summary>Completes with the wait status (see <see cref="Describe"/>) when the process has been reaped.</summary>
    public Task<int> Exited => _exited.Task;

    public bool HasExited => _exited.Task.IsCompleted;

    public static Task<ChildProcess> StartAsync(ChildStart start) => Spawner.Instance.Spawn(start);

    /// <summary>
    /// Spawns on the calling thread, without the hop to the spawner thread: only for children that do not rely
    /// on <c>PR_SET_PDEATHSIG</c> (which fires when the spawning *thread* exits), such as the Processes area's
    /// commands, which its guardian covers.
    /// </summary>
    public static ChildProcess StartHere(ChildStart start)
    {
        var pid = SpawnNow(start);
        start.Spawned?.Invoke(pid);
        return new ChildProcess(pid);
    }

    /// <summary>Reaps the child here if it has exited (waitpid WNOHANG), so that <see cref="Exited"/> is complete
    /// without waiting for the reaper; true when it is.</summary>
    public unsafe bool TryReap()
    {
        if (HasExited) return true;
        // The reaper thread may be reaping at the same moment: the waitpid that wins and its status are set
        // under _reapLock, so the loser's ECHILD (below) cannot report the child as gone before the status is in.
        lock (_reapLock)
        {
            if (HasExited) return true;
            int status;
            if (Libc.waitpid(Pid, &status, LibcProc.WNOHANG) == Pid) _exited.TrySetResult(status);
        }
        return HasExited;
    }

    private readonly object _reapLock = new();

    /// <summary>waitpid found nothing to reap: <see cref="TryReap"/> took the status (it is set by the time its
    /// lock is free), or somebody else reaped the child and it is reported as gone.</summary>
    private void ReapedElsewhere()
    {
        lock (_reapLock) _exited.TrySetResult(255 << 8);
    }

    /// <summary>Signals the whole process group; false when it is gone.</summary>
    public bool SignalGroup(int signal) => Libc.kill(-Pid, signal) == 0;

    public bool Signal(int signal) => !HasExited && Libc.kill(Pid, signal) == 0;

    public static string Describe(int status) =>
        LibcProc.WIfExited(status) ? $"exit code {LibcProc.WExitStatus(status)}" : $"signal {LibcProc.WTermSig(status)}";

    private unsafe void Reap()
    {
        while (true)
        {
            int status;
            var r = Libc.waitpid(Pid, &status, 0);
            if (r == Pid) { _exited.TrySetResult(status); return; }
            if (r < 0 && Libc.LastError() == Errno.EINTR) continue;
            ReapedElsewhere(); // ECHILD
            return;
        }
    }

    /// <summary>Reaps the child now that its pidfd said it has exited.</summary>
    private unsafe void ReapExited()
    {
        while (true)
        {
            int status;
            var r = Libc.waitpid(Pid, &status, LibcProc.WNOHANG);
            if (r == Pid) { _exited.TrySetResult(status); return; }
            if (r < 0 && Libc.LastError() == Errno.EINTR) continue;
            if (r == 0)
            {
                // Not a zombie after all (cannot happen for an exited pidfd): wait the slow way.
                new Thread(Reap) { IsBackground = true, Name = $"reap {Pid}" }.Start();
                return;
            }
            ReapedElsewhere(); // ECHILD
            return;
        }
    }

    /// <summary>
    /// One thread for every child: each child's pidfd (readable once the child has exited) is in one epoll;
    /// the thread reaps the ones that turn readable. Adding a child costs two system calls on the spawning
    /// thread instead of a new thread. Null when pidfds are unavailable (glibc before 2.36, Linux before 5.3).
    /// </summary>
    private sealed unsafe class PidfdReaper
    {
        public static readonly PidfdReaper? Instance = TryCreate();
        private readonly int _epoll;
        private readonly System.Collections.Concurrent.ConcurrentDictionary<int, ChildProcess> _children = new();

        private PidfdReaper(int epoll)
        {
            _epoll = epoll;
            new Thread(Run) { IsBackground = true, Name = "child reaper" }.Start();
        }

        private static PidfdReaper? TryCreate()
        {
            try
            {
                var probe = Libc.pidfd_open(Libc.getpid(), 0);
                if (probe < 0) return null;
                Libc.close(probe);
                var epoll = Libc.epoll_create1(LibcEpoll.EPOLL_CLOEXEC);
                return epoll < 0 ? null : new PidfdReaper(epoll);
            }
            catch (EntryPointNotFoundException) { return null; }
        }

        public bool Watch(ChildProcess child)
        {
            var fd = Libc.pidfd_open(child.Pid, 0); // O_CLOEXEC always
            if (fd < 0) return false;
            _children[fd] = child;
            var ev = stackalloc byte[16];
            *(uint*)ev = LibcEpoll.EPOLLIN;
            *(ulong*)(ev + LibcEpoll.DataOffset) = (ulong)fd;
            if (Libc.epoll_ctl(_epoll, LibcEpoll.EPOLL_CTL_ADD, fd, ev) == 0) return true;
            _children.TryRemove(fd, out _);
            Libc.close(fd);
            return false;
        }

        private void Run()
        {
            const int max = 64;
            var size = LibcEpoll.EventSize;
            var events = stackalloc byte[max * 16];
            while (true)
            {
                var n = Libc.epoll_wait(_epoll, events, max, -1);
                if (n < 0)
                {
                    if (Libc.LastError() != Errno.EINTR) Thread.Sleep(100);
                    continue;
                }
                for (var i = 0; i < n; i++)
                {
                    var fd = (int)*(ulong*)(events + i * size + LibcEpoll.DataOffset);
                    if (!_children.TryRemove(fd, out var child)) continue;
                    Libc.epoll_ctl(_epoll, LibcEpoll.EPOLL_CTL_DEL, fd, null);
                    Libc.close(fd);
                    child.ReapExited();
                }
            }
        }
    }

    /// <summary>
    /// Spawns on one long-lived thread: kernels and commands are wrapped in <c>setpriv --pdeathsig KILL</c>, and
    /// Linux delivers the parent-death signal when the spawning *thread* exits, so that thread must live
    /// as long as the appliance.
    /// </summary>
    private sealed class Spawner
    {
        public static readonly Spawner Instance = new();
        private readonly BlockingCollection<(ChildStart Start, TaskCompletionSource<ChildProcess> Done)> _requests = new();

        private Spawner()
        {
            var thread = new Thread(Run) { IsBackground = true, Name = "child spawner" };
            thread.Start();
        }

        public Task<ChildProcess> Spawn(ChildStart start)
        {
            var done = new TaskCompletionSource<ChildProcess>(TaskCreationOptions.RunContinuationsAsynchronously);
            _requests.Add((start, done));
            return done.Task;
        }

        private void Run()
        {
            foreach (var (start, done) in _requests.GetConsumingEnumerable())
            {
                try
                {
                    var pid = SpawnNow(start);
                    start.Spawned?.Invoke(pid);
                    done.SetResult(new ChildProcess(pid));
                }
                catch (Exception e) { done.SetException(e); }
            }
        }
    }

    private static unsafe int SpawnNow(ChildStart start)
    {
        var strings = new NativeStrings();
        var attr = NativeMemory.AllocZeroed(LibcProc.SpawnAttrSize);
        var actions = NativeMemory.AllocZeroed(LibcProc.FileActionsSize);
        var defaults = NativeMemory.AllocZeroed(LibcProc.SigSetSize);
        var mask = NativeMemory.AllocZeroed(LibcProc.SigSetSize);
        try
        {
            Check(Libc.posix_spawnattr_init(attr), "posix_spawnattr_init");
            Check(Libc.posix_spawn_file_actions_init(actions), "posix_spawn_file_actions_init");
            // Own process group: interrupt is SIGINT to the group, and a Ctrl-C on the appliance's
            // terminal does not reach the kernels.
            // With a terminal, setsid instead (a new session is a new group too; setpgid would then fail).
            Check(Libc.posix_spawnattr_setpgroup(attr, 0), "setpgroup");
            // The appliance may ignore or block signals (SIGPIPE is ignored by .NET); the kernel must
            // start with default dispositions and an empty mask or SIGINT would never interrupt it.
            Libc.sigemptyset(defaults);
            foreach (var sig in new[] { LibcProc.SIGHUP, LibcProc.SIGINT, LibcProc.SIGQUIT, LibcProc.SIGPIPE, LibcProc.SIGTERM, LibcProc.SIGCHLD })
                Libc.sigaddset(defaults, sig);
            Libc.sigemptyset(mask);
            Check(Libc.posix_spawnattr_setsigdefault(attr, defaults), "setsigdefault");
            Check(Libc.posix_spawnattr_setsigmask(attr, mask), "setsigmask");
            var group = start.Tty is null ? LibcProc.POSIX_SPAWN_SETPGROUP : LibcPty.POSIX_SPAWN_SETSID;
            Check(Libc.posix_spawnattr_setflags(attr,
                (short)(group | LibcProc.POSIX_SPAWN_SETSIGDEF | LibcProc.POSIX_SPAWN_SETSIGMASK)), "setflags");

            if (start.Tty is { } tty)
            {
                // glibc runs setsid before the file actions, so this open (without O_NOCTTY) by a session
                // leader with no terminal makes the tty its controlling terminal.
                Check(Libc.posix_spawn_file_actions_addopen(actions, 0, strings.Add(tty), LibcPty.O_RDWR, 0), "addopen tty");
                Check(Libc.posix_spawn_file_actions_adddup2(actions, 0, 1), "adddup2 tty");
                Check(Libc.posix_spawn_file_actions_adddup2(actions, 0, 2), "adddup2 tty");
            }
            else if (start.StdinFd >= 0) Check(Libc.posix_spawn_file_actions_adddup2(actions, start.StdinFd, 0), "adddup2 stdin");
            else Check(Libc.posix_spawn_file_actions_addopen(actions, 0, strings.Add("/dev/null"), Libc.O_RDONLY, 0), "addopen stdin");
            if (start.Tty is null && (start.StdoutFd >= 0 || start.StderrFd >= 0))
            {
                if (start.StdoutFd >= 0) Check(Libc.posix_spawn_file_actions_adddup2(actions, start.StdoutFd, 1), "adddup2 stdout");
                if (start.StderrFd >= 0) Check(Libc.posix_spawn_file_actions_adddup2(actions, start.StderrFd, 2), "adddup2 stderr");
                else if (start.LogPath is { } errLog)
                    Check(Libc.posix_spawn_file_actions_addopen(actions, 2, strings.Add(errLog),
                        Libc.O_WRONLY | Libc.O_CREAT | Libc.O_APPEND, (uint)PrivateFiles.FileMode), "addopen log");
            }
            else if (start.Tty is null && start.LogPath is { } log)
            {
                Check(Libc.posix_spawn_file_actions_addopen(actions, 1, strings.Add(log),
                    Libc.O_WRONLY | Libc.O_CREAT | Libc.O_APPEND, (uint)PrivateFiles.FileMode), "addopen log");
                Check(Libc.posix_spawn_file_actions_adddup2(actions, 1, 2), "adddup2");
            }
            if (start.Cwd is { } cwd) Check(Libc.posix_spawn_file_actions_addchdir_np(actions, strings.Add(cwd)), "addchdir");

            var argv = strings.Array(start.Argv);
            var envp = strings.Array(start.Env.Select(kv => kv.Key + "=" + kv.Value).ToList());
            int pid;
            var rc = Libc.posix_spawn(&pid, strings.Add(start.File), actions, attr, argv, envp);
            if (rc != 0) throw new SpawnException($"cannot start {start.File}: {new System.ComponentModel.Win32Exception(rc).Message}");
            return pid;
        }
        finally
        {
            Libc.posix_spawn_file_actions_destroy(actions);
            Libc.posix_spawnattr_destroy(attr);
            NativeMemory.Free(attr);
            NativeMemory.Free(actions);
            NativeMemory.Free(defaults);
            NativeMemory.Free(mask);
            strings.Dispose();
        }
    }

    private static void Check(int rc, string what)
    {
        if (rc != 0) throw new SpawnException($"{what} failed: error {rc}");
    }

    /// <summary>NUL-terminated UTF-8 strings and NULL-terminated arrays in native memory, freed together.</summary>
    private sealed unsafe class NativeStrings : IDisposable
    {
        private readonly List<nint> _blocks = [];

        public byte* Add(string s)
        {
            var n = Encoding.UTF8.GetByteCount(s);
            var p = (byte*)NativeMemory.Alloc((nuint)n + 1);
            _blocks.Add((nint)p);
            Encoding.UTF8.GetBytes(s, new Span<byte>(p, n));
            p[n] = 0;
            return p;
        }

        public byte** Array(IReadOnlyList<string> items)
        {
            var p = (byte**)NativeMemory.Alloc((nuint)(items.Count + 1), (nuint)sizeof(nint));
            _blocks.Add((nint)p);
            for (var i = 0; i < items.Count; i++) p[i] = Add(items[i]);
            p[items.Count] = null;
            return p;
        }

        public void Dispose()
        {
            foreach (var b in _blocks) NativeMemory.Free((void*)b);
            _blocks.Clear();
        }
    }
}
