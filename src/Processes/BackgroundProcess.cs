using System.Buffers;
using System.Globalization;
using System.IO.Pipes;
using Sandbox.Common;
using Sandbox.Native;

namespace Sandbox.Processes;

/// <summary>
/// A process started by POST /process/start: its output goes into a <see cref="ReplayBuffer"/> (stdout and
/// stderr as separate event types, or one <c>pty</c> stream), its stdin stays open for /stdin and the
/// stream's input messages, and its exit is the buffer's last event.
/// </summary>
internal sealed class BackgroundProcess : IDisposable
{
    private readonly ChildProcess _child;
    private readonly Pty? _pty;
    private readonly Stream? _stdin;
    private readonly SemaphoreSlim _inputLock = new(1, 1);
    private readonly CancellationTokenSource _stopReading = new();
    private int? _exitCode, _signal;

    private BackgroundProcess(string id, string? tag, IReadOnlyList<string> argv, ChildProcess child, Pty? pty, Stream? stdin, int bufferBytes)
    {
        Id = id;
        Tag = tag;
        Argv = argv;
        _child = child;
        _pty = pty;
        _stdin = stdin;
        Output = new ReplayBuffer(bufferBytes);
        StartedAt = DateTime.UtcNow;
    }

    public string Id { get; }
    public string? Tag { get; }
    public IReadOnlyList<string> Argv { get; }
    public int Pid => _child.Pid;
    public bool IsPty => _pty is not null;
    public ReplayBuffer Output { get; }
    public DateTime StartedAt { get; }
    public DateTime? EndedAt { get; private set; }
    public bool HasExited => EndedAt is not null;
    public Task Ended => _ended.Task;
    private readonly TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public static async Task<BackgroundProcess> StartAsync(string id, RunRequest r, IReadOnlyList<string> argv, ChildStart start,
        ProcessesOptions options, Func<ChildStart, Task<ChildProcess>> spawn, Action<BackgroundProcess> onExit)
    {
        if (r.Pty is { } size)
        {
            var pty = Pty.Open(size.Cols, size.Rows);
            ChildProcess child;
            try { child = await spawn(start with { Tty = pty.SlavePath }).ConfigureAwait(false); }
            catch (SpawnException e) { pty.Dispose(); throw SandboxException.BadField("argv", $"{argv[0]}: {e.Message}"); }
            var p = new BackgroundProcess(id, r.Tag, argv, child, pty, null, options.ReplayBufferBytes);
            var reader = new Thread(() => p.PumpPty()) { IsBackground = true, Name = $"pty {child.Pid}" };
            reader.Start();
            _ = p.WatchAsync(reader, Task.CompletedTask, options.DrainMs, onExit);
            return p;
        }
        using var outPipe = Pipe.ForOutput();
        using var errPipe = Pipe.ForOutput();
        using var inPipe = Pipe.ForInput();
        ChildProcess c;
        try { c = await spawn(start with { StdoutFd = outPipe.ChildFd, StderrFd = errPipe.ChildFd, StdinFd = inPipe.ChildFd }).ConfigureAwait(false); }
        catch (SpawnException e) { throw SandboxException.BadField("argv", $"{argv[0]}: {e.Message}"); }
        outPipe.CloseChildEnd();
        errPipe.CloseChildEnd();
        inPipe.CloseChildEnd();
        var bp = new BackgroundProcess(id, r.Tag, argv, c, null, inPipe.TakeParentStream(PipeDirection.Out), options.ReplayBufferBytes);
        var pumps = Task.WhenAll(
            bp.PumpAsync(outPipe.TakeParentStream(PipeDirection.In), "stdout"),
            bp.PumpAsync(errPipe.TakeParentStream(PipeDirection.In), "stderr"));
        _ = bp.WatchAsync(null, pumps, options.DrainMs, onExit);
        return bp;
    }

    private async Task WatchAsync(Thread? reader, Task pumps, int drainMs, Action<BackgroundProcess> onExit)
    {
        var status = await _child.Exited.ConfigureAwait(false);
        _stopReading.CancelAfter(drainMs);
        await pumps.ConfigureAwait(false);
        if (reader is not null) await Task.Run(reader.Join).ConfigureAwait(false);
        if (LibcProc.WIfExited(status)) _exitCode = LibcProc.WExitStatus(status); else _signal = LibcProc.WTermSig(status);
        EndedAt = DateTime.UtcNow;
        Output.Append("exit", [], _exitCode, _signal);
        _pty?.Dispose();
        if (_stdin is not null) try { await _stdin.DisposeAsync().ConfigureAwait(false); } catch (IOException) { }
        _ended.TrySetResult();
        onExit(this);
    }

    /// <summary>Output chunks, a multi-byte character split between two reads kept for the next one.</summary>
    private async Task PumpAsync(Stream stream, string type)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        var carry = 0;
        try
        {
            while (true)
            {
                int n;
                try { n = await stream.ReadAsync(buffer.AsMemory(carry, buffer.Length - carry), _stopReading.Token).ConfigureAwait(false); }
                catch (Exception e) when (e is OperationCanceledException or IOException) { n = 0; }
                if (n == 0)
                {
                    if (carry > 0) Output.Append(type, buffer.AsSpan(0, carry).ToArray());
                    return;
                }
                var total = carry + n;
                var complete = OutputText.CompleteLength(buffer.AsSpan(0, total));
                if (complete == 0) complete = total;
                Output.Append(type, buffer.AsSpan(0, complete).ToArray());
                carry = total - complete;
                buffer.AsSpan(complete, carry).CopyTo(buffer);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            await stream.DisposeAsync().ConfigureAwait(false);
        }
    }

    private void PumpPty()
    {
        var buffer = new byte[64 * 1024];
        var carry = 0;
        while (true)
        {
            var n = _pty!.Read(buffer.AsSpan(carry), _stopReading.Token);
            if (n == 0)
            {
                if (carry > 0) Output.Append("pty", buffer.AsSpan(0, carry).ToArray());
                return;
            }
            var total = carry + n;
            var complete = OutputText.CompleteLength(buffer.AsSpan(0, total));
            if (complete == 0) complete = total;
            Output.Append("pty", buffer.AsSpan(0, complete).ToArray());
            carry = total - complete;
            buffer.AsSpan(complete, carry).CopyTo(buffer);
        }
    }

    public async Task WriteAsync(byte[] data, bool eof, CancellationToken ct)
    {
        if (HasExited) throw SandboxException.Conflict($"process {Id} has exited");
        await _inputLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            if (_pty is not null)
            {
                _pty.Write(data);
                if (eof) _pty.Write([4]); // Ctrl-D: end of input for the program reading the terminal
                return;
            }
            try
            {
                if (data.Length > 0) await _stdin!.WriteAsync(data, ct).ConfigureAwait(false);
                if (eof) await _stdin!.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException)
            {
                throw SandboxException.Conflict($"process {Id} no longer reads its stdin");
            }
        }
        finally { _inputLock.Release(); }
    }

    public void Resize(int cols, int rows)
    {
        if (_pty is null) throw SandboxException.BadField("pty", $"process {Id} has no terminal");
        _pty.Resize(cols, rows);
    }

    /// <summary>Signals the process group (for a terminal: the session leader's group).</summary>
    public void Signal(int signal)
    {
        if (HasExited) throw SandboxException.Conflict($"process {Id} has exited");
        _child.SignalGroup(signal);
    }

    public void Kill()
    {
        if (!_child.HasExited) _child.SignalGroup(LibcProc.SIGKILL);
    }

    public ProcessInfo Info() => new(
        Id, Tag, Pid, Argv, HasExited ? "exited" : "running", _exitCode, _signal, IsPty,
        Iso(StartedAt), EndedAt is { } e ? Iso(e) : null, Output.LastSeq);

    private static string Iso(DateTime t) => t.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);

    public void Dispose()
    {
        Kill();
        _stopReading.Cancel();
    }
}
