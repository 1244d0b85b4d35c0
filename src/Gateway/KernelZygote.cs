using Sandbox.Common;
using System.Collections.Concurrent;
using System.Reflection;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;
using Sandbox.Native;

namespace Sandbox.Gateway;

/// <summary>
/// One Python process that imported ipykernel once and forks a kernel per request (src/Gateway/KernelZygote.py,
/// embedded in the binary and run with <c>python -c</c>, so it needs no file next to the executable).
/// Talks over two pipes, one JSON object per line. The zygote reaps its kernels and reports their wait
/// status, which completes <see cref="ChildProcess.Exited"/> of the adopted process.
/// </summary>
internal sealed class KernelZygote : IDisposable
{
    private const string ResourceName = "Sandbox.Gateway.KernelZygote.py";
    private readonly ConcurrentDictionary<long, TaskCompletionSource<(int Pid, Task<int> Exit)>> _starts = new();
    private readonly ConcurrentDictionary<int, TaskCompletionSource<int>> _exits = new();
    private readonly TaskCompletionSource<int> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly object _writeLock = new();
    private readonly ILogger _log;
    private readonly FileStream _requests;
    private readonly FileStream _replies;
    private long _nextId;
    private volatile bool _dead;

    private KernelZygote(ChildProcess process, FileStream requests, FileStream replies, ILogger log)
    {
        Process = process;
        _requests = requests;
        _replies = replies;
        _log = log;
        new Thread(ReadReplies) { IsBackground = true, Name = "kernel zygote replies" }.Start();
    }

    public ChildProcess Process { get; }

    public bool IsAlive => !_dead && !Process.HasExited;

    /// <summary>The script, read from the binary's resources.</summary>
    public static string Script()
    {
        using var s = typeof(KernelZygote).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"resource {ResourceName} is missing from the binary");
        using var r = new StreamReader(s, Encoding.UTF8);
        return r.ReadToEnd();
    }

    /// <summary>Starts the zygote and waits until it has imported ipykernel; throws when it cannot.</summary>
    public static async Task<KernelZygote> StartAsync(string python, string? setpriv, IReadOnlyDictionary<string, string> env,
        string? logPath, TimeSpan timeout, ILogger log)
    {
        var (reqRead, reqWrite) = Pipe();
        var (repRead, repWrite) = Pipe();
        ChildProcess process;
        try
        {
            var argv = new List<string> { python, "-c", Script() };
            var program = python;
            if (setpriv is not null)
            {
                argv.InsertRange(0, [setpriv, "--pdeathsig", "KILL"]);
                program = setpriv;
            }
            process = await ChildProcess.StartAsync(new ChildStart(program, argv, env, null, logPath) { StdinFd = reqRead, StdoutFd = repWrite }).ConfigureAwait(false);
        }
        catch
        {
            Libc.close(reqWrite);
            Libc.close(repRead);
            throw;
        }
        finally
        {
            Libc.close(reqRead);
            Libc.close(repWrite);
        }
        var zygote = new KernelZygote(process,
            new FileStream(new SafeFileHandle(reqWrite, ownsHandle: true), FileAccess.Write, 0),
            new FileStream(new SafeFileHandle(repRead, ownsHandle: true), FileAccess.Read, 0), log);
        try
        {
            await zygote._ready.Task.WaitAsync(timeout).ConfigureAwait(false);
            return zygote;
        }
        catch
        {
            zygote.Dispose();
            throw;
        }
    }

    private static unsafe (int Read, int Write) Pipe()
    {
        var fds = stackalloc int[2];
        if (Libc.pipe2(fds, Libc.O_CLOEXEC) != 0) throw NativeCallException.FromLastError("pipe2");
        return (fds[0], fds[1]);
    }

    /// <summary>Forks a kernel: <paramref name="kernelArgs"/> are what ipykernel's app parses (<c>-f file</c>).</summary>
    public async Task<ChildProcess> StartKernelAsync(IReadOnlyList<string> kernelArgs, IReadOnlyDictionary<string, string> env,
        string? cwd, string? logPath, TimeSpan timeout)
    {
        if (!IsAlive) throw new SpawnException("the kernel zygote is not running");
        var id = Interlocked.Increment(ref _nextId);
        var started = new TaskCompletionSource<(int Pid, Task<int> Exit)>(TaskCreationOptions.RunContinuationsAsynchronously);
        _starts[id] = started;
        try
        {
            var line = new MemoryStream();
            using (var w = new Utf8JsonWriter(line))
            {
                w.WriteStartObject();
                w.WriteNumber("id", id);
                w.WriteStartArray("argv");
                foreach (var a in kernelArgs) w.WriteStringValue(a);
                w.WriteEndArray();
                w.WriteStartObject("env");
                foreach (var (k, v) in env) w.WriteString(k, v);
                w.WriteEndObject();
                if (cwd is null) w.WriteNull("cwd"); else w.WriteString("cwd", cwd);
                if (logPath is null) w.WriteNull("log"); else w.WriteString("log", logPath);
                w.WriteEndObject();
            }
            line.WriteByte((byte)'\n');
            lock (_writeLock)
            {
                _requests.Write(line.GetBuffer(), 0, (int)line.Length);
                _requests.Flush();
            }
            var (pid, exit) = await started.Task.WaitAsync(timeout).ConfigureAwait(false);
            return ChildProcess.Adopt(pid, exit);
        }
        catch (Exception e) when (e is IOException or TimeoutException or ObjectDisposedException)
        {
            throw new SpawnException($"the kernel zygote did not start the kernel: {e.Message}");
        }
        finally
        {
            _starts.TryRemove(id, out _);
        }
    }

    private void ReadReplies()
    {
        try
        {
            using var reader = new StreamReader(_replies, Encoding.UTF8);
            while (reader.ReadLine() is { } line)
            {
                if (line.Length == 0) continue;
                using var doc = JsonDocument.Parse(line);
                var o = doc.RootElement;
                if (o.TryGetProperty("exit", out var exitPid))
                {
                    var pid = exitPid.GetInt32();
                    _exits.GetOrAdd(pid, _ => new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously))
                        .TrySetResult(o.GetProperty("status").GetInt32());
                    _exits.TryRemove(pid, out _);
                }
                else if (o.TryGetProperty("id", out var id))
                {
                    if (!_starts.TryGetValue(id.GetInt64(), out var started)) continue;
                    if (o.TryGetProperty("pid", out var pid))
                    {
                        // Registered before the start completes, so an exit reported next finds its waiter.
                        var exit = _exits.GetOrAdd(pid.GetInt32(), _ => new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously));
                        started.TrySetResult((pid.GetInt32(), exit.Task));
                    }
                    else
                    {
                        started.TrySetException(new SpawnException("the kernel zygote could not fork: " + o.GetProperty("error").GetString()));
                    }
                }
                else if (o.TryGetProperty("ready", out _))
                {
                    _ready.TrySetResult(0);
                }
                else if (o.TryGetProperty("unsafe", out var why))
                {
                    _ready.TrySetException(new SpawnException("the kernel zygote refused to fork: " + why.GetString()));
                }
            }
        }
        catch (Exception e) when (e is IOException or JsonException or ObjectDisposedException or InvalidOperationException)
        {
            _log.LogWarning("kernel zygote replies: {Error}", e.Message);
        }
        _dead = true;
        _ready.TrySetException(new SpawnException("the kernel zygote exited before it was ready"));
        foreach (var s in _starts.Values) s.TrySetException(new SpawnException("the kernel zygote exited"));
        // Its kernels die with it (PR_SET_PDEATHSIG); report each once it is gone (init reaps it now).
        foreach (var (pid, exit) in _exits)
            _ = Task.Run(async () =>
            {
                for (var i = 0; i < 200 && Libc.kill(pid, 0) == 0; i++) await Task.Delay(10).ConfigureAwait(false);
                exit.TrySetResult(LibcProc.SIGKILL);
            });
    }

    public void Dispose()
    {
        _dead = true;
        try { _requests.Dispose(); } catch (IOException) { }   // EOF on its stdin: the zygote exits
        if (!Process.HasExited) Process.Signal(LibcProc.SIGTERM);
    }
}
