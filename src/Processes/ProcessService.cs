using System.Collections;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.IO.Pipes;
using Microsoft.Extensions.Logging;
using Sandbox.Common;
using Sandbox.Native;

namespace Sandbox.Processes;

/// <summary>
/// Runs commands for agents. Every command is its own process group (a timeout or a signal reaches all it
/// started), is listed with the <see cref="Guardian"/> (its group is killed however the appliance dies) and
/// is reaped by <see cref="ChildProcess"/>. Groups that outlive their command (a <c>server &amp;</c>) are
/// killed when the appliance stops, and by the guardian when it dies.
/// </summary>
internal sealed partial class ProcessService : IDisposable
{
    private readonly ProcessesOptions _options;
    private readonly CommandLine _commands;
    private readonly ILogger _log;
    private readonly Guardian? _guardian;
    private readonly SemaphoreSlim _slots;
    /// <summary>Runs waiting for their command on their own thread (<see cref="ReadInline"/>): at most one per CPU.</summary>
    private readonly SemaphoreSlim _inline = new(Environment.ProcessorCount, Environment.ProcessorCount);
    /// <summary>Process groups whose leader exited while other members lived on; killed at shutdown.</summary>
    private readonly ConcurrentDictionary<int, byte> _leftoverGroups = new();
    private int _disposed;

    public ProcessService(ProcessesOptions options, IDictionary appEnv, ILogger log)
    {
        _options = options;
        // The guardian costs one /bin/sh for the appliance's life; setpriv (its fallback) one exec per command.
        _guardian = options.DieWithAppliance ? Guardian.TryCreate(options.GuardianShell, log) : null;
        _commands = new CommandLine(options, appEnv, _guardian is null ? null : _guardian.Add, _guardian?.Token,
            setpriv: options.DieWithAppliance && _guardian is null);
        _log = log;
        _slots = new SemaphoreSlim(options.MaxConcurrent, options.MaxConcurrent);
    }

    public ProcessesOptions Options => _options;

    /// <summary>The guardian's pid, 0 without one.</summary>
    public int GuardianPid => _guardian?.Pid ?? 0;

    /// <summary>Runs a command to its end (or its timeout) and returns its exit status and output.</summary>
    public async Task<RunResult> RunAsync(RunRequest r, CancellationToken aborted)
    {
        var argv = _commands.Argv(r);
        var timeout = Timeout(r.TimeoutS);
        var limit = r.MaxOutputBytes switch
        {
            null => _options.MaxOutputBytes,
            < 0 => throw SandboxException.BadField("max_output_bytes", "must be 0 or more"),
            var m when m > _options.MaxOutputBytes => throw SandboxException.BadField("max_output_bytes",
                $"at most {_options.MaxOutputBytes} (SANDBOX_PROCESS_MAX_OUTPUT_BYTES)"),
            var m => (int)m.Value,
        };
        var stdin = r.Stdin is null ? null : OutputText.Decode(r.Stdin, r.StdinEncoding, "stdin");
        var start = _commands.Build(r, argv);
        if (r.Pty is not null) throw SandboxException.BadField("pty", "a terminal is for background processes (POST /process/start)");

        if (!_slots.Wait(0)) throw SandboxException.Busy($"{_options.MaxConcurrent} commands are running (SANDBOX_PROCESS_MAX_CONCURRENT)");
        try
        {
            using var outPipe = Pipe.ForOutput();
            using var errPipe = Pipe.ForOutput();
            using var inPipe = stdin is null ? null : Pipe.ForInput();
            start = start with { StdoutFd = outPipe.ChildFd, StderrFd = errPipe.ChildFd, StdinFd = inPipe?.ChildFd ?? -1 };

            var clock = Stopwatch.StartNew();
            var child = await Spawn(start, argv).ConfigureAwait(false);
            outPipe.CloseChildEnd();
            errPipe.CloseChildEnd();
            inPipe?.CloseChildEnd();

            using var drain = new CancellationTokenSource();
            var stdout = new OutputCapture(limit);
            var stderr = new OutputCapture(limit);
            bool outDone = false, errDone = false;
            if (inPipe is null && _options.InlineWaitMs > 0 && _inline.Wait(0))
            {
                try { (outDone, errDone) = ReadInline(outPipe.ParentFd, errPipe.ParentFd, stdout, stderr, (int)Math.Min(_options.InlineWaitMs, timeout.TotalMilliseconds)); }
                finally { _inline.Release(); }
                if (outDone && errDone) child.TryReap();
            }
            var pumps = Task.WhenAll(
                outDone ? Task.CompletedTask : stdout.PumpAsync(outPipe.TakeParentStream(PipeDirection.In), drain.Token),
                errDone ? Task.CompletedTask : stderr.PumpAsync(errPipe.TakeParentStream(PipeDirection.In), drain.Token));
            var feed = inPipe is null ? Task.CompletedTask : FeedAsync(inPipe.TakeParentStream(PipeDirection.Out), stdin!, drain.Token);

            var timedOut = false;
            using (var wait = CancellationTokenSource.CreateLinkedTokenSource(aborted))
            {
                var left = timeout - clock.Elapsed;
                wait.CancelAfter(left > TimeSpan.Zero ? left : TimeSpan.Zero);
                try { await child.Exited.WaitAsync(wait.Token).ConfigureAwait(false); }
                catch (OperationCanceledException)
                {
                    timedOut = !aborted.IsCancellationRequested;
                    child.SignalGroup(LibcProc.SIGKILL);
                }
            }
            var status = await child.Exited.ConfigureAwait(false);
            var duration = clock.ElapsedMilliseconds;
            // Output a background child of the command still writes is read a little longer, then dropped.
            drain.CancelAfter(timedOut ? Math.Min(_options.DrainMs, 1000) : _options.DrainMs);
            await pumps.ConfigureAwait(false);
            await feed.ConfigureAwait(false);
            NoteLeftovers(child.Pid);
            aborted.ThrowIfCancellationRequested();

            var (outText, outEncoding) = OutputText.Encode(stdout.Bytes, stdout.Truncated);
            var (errText, errEncoding) = OutputText.Encode(stderr.Bytes, stderr.Truncated);
            var exited = LibcProc.WIfExited(status);
            return new RunResult(
                exited ? LibcProc.WExitStatus(status) : null,
                exited ? null : LibcProc.WTermSig(status),
                outText, errText, outEncoding, errEncoding,
                duration, timedOut, stdout.Truncated || stderr.Truncated, child.Pid);
        }
        finally
        {
            _slots.Release();
        }
    }

    /// <summary>
    /// Reads a command's stdout and stderr on this thread for up to <paramref name="ms"/>: poll on both pipes,
    /// read what arrives, until both reach end-of-file or the time is up. Returns which reached end-of-file
    /// (their remaining readers are then not needed). For a short command this is the whole run: no thread
    /// switch between its spawn and the answer.
    /// </summary>
    private static unsafe (bool OutDone, bool ErrDone) ReadInline(int outFd, int errFd, OutputCapture stdout, OutputCapture stderr, int ms)
    {
        bool outDone = false, errDone = false;
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(64 * 1024);
        var fds = stackalloc PollFd[2];
        var deadline = Environment.TickCount64 + ms;
        try
        {
            while (!(outDone && errDone))
            {
                var left = deadline - Environment.TickCount64;
                if (left <= 0) break;
                var n = 0;
                if (!outDone) fds[n++] = new PollFd { Fd = outFd, Events = Libc.POLLIN };
                if (!errDone) fds[n++] = new PollFd { Fd = errFd, Events = Libc.POLLIN };
                var ready = Libc.poll(fds, (nuint)n, (int)left);
                if (ready < 0 && Libc.LastError() == Errno.EINTR) continue;
                if (ready <= 0) break;
                for (var i = 0; i < n; i++)
                {
                    if (fds[i].Revents == 0) continue;
                    var isOut = fds[i].Fd == outFd;
                    nint got;
                    fixed (byte* p = buffer) got = Libc.ReadFd(fds[i].Fd, p, (nuint)buffer.Length);
                    if (got > 0) (isOut ? stdout : stderr).Append(buffer.AsSpan(0, (int)got));
                    else if (got == 0 || Libc.LastError() is not (Errno.EINTR or Errno.EAGAIN))
                    {
                        if (isOut) outDone = true; else errDone = true;
                    }
                }
            }
        }
        finally { System.Buffers.ArrayPool<byte>.Shared.Return(buffer); }
        return (outDone, errDone);
    }

    private TimeSpan Timeout(double? seconds)
    {
        var s = seconds ?? _options.DefaultTimeoutS;
        if (double.IsNaN(s) || s <= 0 || s > _options.MaxTimeoutS)
            throw SandboxException.BadField("timeout_s", $"expected more than 0 and at most {_options.MaxTimeoutS} seconds");
        return TimeSpan.FromSeconds(s);
    }

    private async Task<ChildProcess> Spawn(ChildStart start, IReadOnlyList<string> argv)
    {
        try { return await StartChild(start).ConfigureAwait(false); }
        catch (SpawnException e) { throw SandboxException.BadField("argv", $"{argv[0]}: {e.Message}"); }
    }

    /// <summary>With a guardian, spawned right here (no hop to the spawner thread and back); with the setpriv
    /// fallback, on the spawner thread, whose life the parent-death signal follows.</summary>
    private Task<ChildProcess> StartChild(ChildStart start)
    {
        if (_guardian is null) return ChildProcess.StartAsync(start);
        _guardian.EnsureStarted();
        return Task.FromResult(ChildProcess.StartHere(start));
    }

    /// <summary>Starts the guardian now (the composition root defers this past the first answer).</summary>
    public void StartGuardian() => _guardian?.EnsureStarted();

    private static async Task FeedAsync(Stream stream, byte[] bytes, CancellationToken stop)
    {
        try { await stream.WriteAsync(bytes, stop).ConfigureAwait(false); }
        catch (IOException) { } // the command exited without reading it all (EPIPE)
        catch (OperationCanceledException) { }
        finally
        {
            try { await stream.DisposeAsync().ConfigureAwait(false); } catch (IOException) { }
        }
    }

    /// <summary>Remembers a group whose leader is gone but which still has members (kill(-pgid, 0) succeeds);
    /// an empty one is taken off the guardian's list.</summary>
    private void NoteLeftovers(int pgid)
    {
        if (Libc.kill(-pgid, 0) == 0) _leftoverGroups.TryAdd(pgid, 0);
        else _guardian?.Remove(pgid);
        if (_leftoverGroups.Count > 256)
            foreach (var g in _leftoverGroups.Keys)
                if (Libc.kill(-g, 0) != 0 && _leftoverGroups.TryRemove(g, out _)) _guardian?.Remove(g);
    }

    /// <summary>Kills every process this service started that still runs (appliance shutdown).</summary>
    public void KillAll()
    {
        foreach (var g in _leftoverGroups.Keys) Libc.kill(-g, LibcProc.SIGKILL);
        _leftoverGroups.Clear();
        KillBackground();
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        KillAll();
        _guardian?.Dispose();
    }

    partial void KillBackgroundCore();
    private void KillBackground() => KillBackgroundCore();
}
