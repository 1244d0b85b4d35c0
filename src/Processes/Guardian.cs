using Microsoft.Extensions.Logging;
using Sandbox.Common;
using Sandbox.Native;

namespace Sandbox.Processes;

/// <summary>
/// Makes sure commands never outlive the appliance, however it dies (SIGKILL, a crash, the OOM killer),
/// without a wrapper exec per command: one <c>/bin/sh</c> started once, in its own process group, reads the
/// process groups of the running commands from a pipe whose only write end is ours (<c>+pgid</c> when a
/// command starts, <c>-pgid</c> once its group is empty). When the appliance dies the kernel closes that end;
/// the shell reads end-of-file and SIGKILLs every group still listed, then exits. This covers more than
/// <c>PR_SET_PDEATHSIG</c> did: the leftovers of a command (<c>server &amp;</c>) are in its group too.
/// <para>If the guardian itself dies or stops reading, it is started again and told every live group.</para>
/// </summary>
internal sealed class Guardian : IDisposable
{
    /// <summary>Every command's environment carries <c>SANDBOX_PROCESS_GUARD=&lt;token&gt;</c> (see <see cref="Token"/>).</summary>
    public const string Variable = "SANDBOX_PROCESS_GUARD";

    // dash/bash: `read` ends at end-of-file (the appliance is gone); the groups are a " 1 2 3 " string. Then
    // the processes whose environment carries the token ($1) are killed too: a command that started (and was
    // seen to start) in the microseconds before the appliance listed its group, and the ones that left it.
    private const string Script = """
        trap '' HUP INT QUIT TERM PIPE
        g=' '
        while read -r c; do
          case $c in
            +*) g="$g${c#+} " ;;
            -*) p=${c#-}; case $g in *" $p "*) g="${g%% $p *} ${g#* $p }" ;; esac ;;
          esac
        done
        for p in $g; do kill -s KILL -- "-$p"; done 2>/dev/null
        for pass in 1 2; do
          for f in $(grep -l -a -s -F -e "SANDBOX_PROCESS_GUARD=$1" /proc/[0-9]*/environ 2>/dev/null); do
            p=${f#/proc/}; kill -s KILL "${p%/environ}"
          done 2>/dev/null
        done
        """;

    /// <summary>A random token for this appliance's commands, found in their environment by the guardian.</summary>
    /// <remarks>122 random bits from <see cref="Guid.NewGuid"/> (the kernel's getrandom, through System.Native):
    /// <c>RandomNumberGenerator</c> would load OpenSSL (libssl + libcrypto, 3.6 MB resident) during start-up
    /// for this one value (docs/performance.md, "Memory").</remarks>
    public string Token { get; } = Guid.NewGuid().ToString("N");

    private readonly string _shell;
    private readonly ILogger _log;
    private readonly object _lock = new();
    private readonly HashSet<int> _groups = [];
    /// <summary>Groups to send as <c>+pgid</c> / <c>-pgid</c> with the next write.</summary>
    private readonly List<int> _pending = [];
    private readonly List<int> _removed = [];
    private readonly Queue<long> _restarts = new();
    private ChildProcess? _process;
    private int _writeFd = -1;
    private bool _disposed;

    private Guardian(string shell, ILogger log)
    {
        _shell = shell;
        _log = log;
    }

    /// <summary>The guardian's pid (tests, diagnostics); 0 when none runs.</summary>
    public int Pid { get { lock (_lock) return _process?.Pid ?? 0; } }

    /// <summary>
    /// A guardian with <paramref name="shell"/>, not started yet (<see cref="EnsureStarted"/>: its spawn is kept
    /// off the appliance's start-up path); null (logged) when there is no such shell.
    /// </summary>
    public static Guardian? TryCreate(string shell, ILogger log)
    {
        if (!File.Exists(shell))
        {
            log.LogWarning("no {Shell} for the process guardian; commands are wrapped in setpriv instead", shell);
            return null;
        }
        return new Guardian(shell, log);
    }

    private readonly object _startGate = new();
    private bool _started;

    /// <summary>
    /// Starts the guardian once: after the appliance's first answer (deferred start-up work), or before the
    /// first command if one comes sooner. A caller that finds it starting waits for it, so no command is
    /// spawned before there is a guardian to list its group.
    /// </summary>
    public void EnsureStarted()
    {
        if (Volatile.Read(ref _started)) return;
        lock (_startGate)
        {
            if (_started) return;
            Start();
            Volatile.Write(ref _started, true);
        }
    }

    /// <summary>Lists a group (called on the spawning thread right after the spawn), with the removals
    /// noted since the last one in the same write: one wakeup of the guardian per command.</summary>
    public void Add(int pgid)
    {
        lock (_lock)
        {
            if (_disposed || !_groups.Add(pgid)) return;
            // A pid used again before its removal was sent: the guardian still lists it.
            if (!_removed.Remove(pgid)) _pending.Add(pgid);
            FlushLocked();
        }
    }

    /// <summary>Forgets a group that has no members any more. Sent with the next <see cref="Add"/> (or once
    /// 64 are pending): an empty group needs no haste, and the answer to the command goes out first.</summary>
    public void Remove(int pgid)
    {
        lock (_lock)
        {
            if (_disposed || !_groups.Remove(pgid)) return;
            if (_pending.Remove(pgid)) return; // never sent
            _removed.Add(pgid);
            if (_removed.Count >= 64) FlushLocked();
        }
    }

    /// <summary>Spawns a guardian and hands it the live groups. Never called under the lock: the spawner
    /// thread takes it to list each new command (<see cref="Add"/>).</summary>
    private unsafe bool Start()
    {
        int* fds = stackalloc int[2];
        if (Libc.pipe2(fds, LibcPty.O_CLOEXEC) != 0)
        {
            _log.LogWarning("cannot create the guardian's pipe (errno {Errno}); commands may outlive a crashed appliance", (int)Libc.LastError());
            return false;
        }
        int read = fds[0], write = fds[1];
        // Never block a request on a guardian that stopped reading: a full pipe restarts it instead.
        Libc.FcntlInt(write, LibcPty.F_SETFL, Libc.FcntlInt(write, LibcPty.F_GETFL, 0) | LibcPty.O_NONBLOCK);
        var env = new Dictionary<string, string> { ["PATH"] = "/usr/bin:/bin", ["LC_ALL"] = "C" };
        ChildProcess process;
        try
        {
            process = ChildProcess.StartAsync(new ChildStart(_shell, [_shell, "-c", Script, "sandbox-guardian", Token], env, "/", null) { StdinFd = read })
                .GetAwaiter().GetResult();
        }
        catch (SpawnException e)
        {
            Libc.close(read);
            Libc.close(write);
            _log.LogWarning("cannot start the process guardian: {Message}; commands may outlive a crashed appliance", e.Message);
            return false;
        }
        Libc.close(read);
        lock (_lock)
        {
            _process = process;
            _writeFd = write;
            if (_disposed) { Libc.close(write); _writeFd = -1; } // it reads end-of-file and exits
            // Everything still listed, in PIPE_BUF-sized writes.
            _removed.Clear();
            _pending.Clear();
            foreach (var g in _groups)
            {
                _pending.Add(g);
                if (_pending.Count == 256) FlushLocked();
            }
            FlushLocked();
        }
        _ = process.Exited.ContinueWith(t => OnExited(process, t.Result), TaskScheduler.Default);
        return true;
    }

    private unsafe void FlushLocked()
    {
        if (_writeFd < 0)
        {
            // No guardian now: the next one is sent every listed group.
            _removed.Clear();
            _pending.Clear();
            return;
        }
        var text = new System.Text.StringBuilder();
        foreach (var g in _removed) text.Append('-').Append(g).Append('\n');
        foreach (var g in _pending) text.Append('+').Append(g).Append('\n');
        _removed.Clear();
        _pending.Clear();
        var bytes = System.Text.Encoding.ASCII.GetBytes(text.ToString());
        fixed (byte* p = bytes)
        {
            // A pipe write of up to PIPE_BUF (4096) bytes is all or nothing.
            if (bytes.Length <= 4096 && Libc.write(_writeFd, p, (nuint)bytes.Length) == bytes.Length) return;
        }
        // EAGAIN (it stopped reading) or EPIPE (it died): a new guardian gets the whole list.
        _log.LogWarning("the process guardian does not read (errno {Errno}); restarting it", (int)Libc.LastError());
        _process?.Signal(LibcProc.SIGKILL);
        Libc.close(_writeFd);
        _writeFd = -1;
    }

    private void OnExited(ChildProcess process, int status)
    {
        lock (_lock)
        {
            if (_disposed || !ReferenceEquals(process, _process)) return;
            if (_writeFd >= 0) { Libc.close(_writeFd); _writeFd = -1; }
            _process = null;
            var now = Environment.TickCount64;
            while (_restarts.Count > 0 && now - _restarts.Peek() > 60_000) _restarts.Dequeue();
            if (_restarts.Count >= 5)
            {
                _log.LogError("the process guardian keeps dying ({Status}); commands may outlive a crashed appliance", ChildProcess.Describe(status));
                return;
            }
            _restarts.Enqueue(now);
            _log.LogWarning("the process guardian exited ({Status}); restarting it", ChildProcess.Describe(status));
        }
        Start();
    }

    /// <summary>Closes our end: the guardian kills whatever is still listed and exits.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed) return;
            _disposed = true;
            if (_writeFd >= 0) { Libc.close(_writeFd); _writeFd = -1; }
        }
    }
}
