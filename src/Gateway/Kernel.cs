using Sandbox.Common;
using Microsoft.Extensions.Logging;

namespace Sandbox.Gateway;

/// <summary>Where a kernel is in its life; execution_state (idle/busy) is tracked apart from it.</summary>
internal enum KernelLifecycle
{
    Starting,
    Running,
    Restarting,
    ShuttingDown,
    Dead,
    Gone,
}

/// <summary>
/// One kernel: its ipykernel process, connection file and ZMQ hub. The process may be replaced (restart
/// on request or after a crash); the id, ports, key and hub stay, so connected clients carry on.
/// Lifecycle changes are serialised by <see cref="_lifecycleLock"/>; state read by the REST API is volatile.
/// </summary>
internal sealed partial class Kernel : IAsyncDisposable
{
    private readonly GatewayOptions _options;
    private readonly KernelLauncher _launcher;
    private readonly ILogger _log;
    private readonly IReadOnlyDictionary<string, string>? _requestEnv;
    private readonly string? _cwd;
    private readonly SemaphoreSlim _lifecycleLock = new(1, 1);
    private readonly Queue<long> _autoRestarts = new();
    private volatile KernelLifecycle _lifecycle = KernelLifecycle.Starting;
    private volatile string _executionState = "starting";
    private volatile string? _reason;
    private long _lastActivityTicks = DateTime.UtcNow.Ticks;
    private volatile ChildProcess? _process;
    private TaskCompletionSource _ready = NewReady();
    private int _restarts;

    public Kernel(string id, KernelSpec spec, GatewayOptions options, KernelLauncher launcher, ILogger log,
        IReadOnlyDictionary<string, string>? requestEnv, string? cwd)
    {
        Id = id;
        Spec = spec;
        _options = options;
        _launcher = launcher;
        _log = log;
        _requestEnv = requestEnv;
        _cwd = cwd;
        Connection = ConnectionInfo.Allocate(options.KernelPortRange);
        ConnectionFile = launcher.ConnectionFile(id);
        Hub = new KernelHub(id, Connection, options, log)
        {
            IopubObserved = OnIopub,
            Activity = Touch,
        };
    }

    public string Id { get; }
    public KernelSpec Spec { get; }
    public string Name => Spec.Name;
    public ConnectionInfo Connection { get; }
    public string ConnectionFile { get; }
    public KernelHub Hub { get; }
    public KernelLifecycle Lifecycle => _lifecycle;
    public string ExecutionState => _executionState;
    public int? Pid => _process?.Pid;
    public int Restarts => Volatile.Read(ref _restarts);
    public DateTime LastActivity => new(Interlocked.Read(ref _lastActivityTicks), DateTimeKind.Utc);
    public bool IsAlive => _lifecycle is KernelLifecycle.Starting or KernelLifecycle.Running or KernelLifecycle.Restarting;

    /// <summary>Completes when the current process has answered kernel_info and iopub flows; faults if it cannot start.</summary>
    public Task Ready => Volatile.Read(ref _ready).Task;

    public KernelModel Model() => new(Id, Name, JupyterWire.FormatDate(LastActivity), _executionState, Hub.ConnectedClients, _reason);

    public void Touch() => Interlocked.Exchange(ref _lastActivityTicks, DateTime.UtcNow.Ticks);

    private static TaskCompletionSource NewReady() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private void OnIopub(WireMessage m)
    {
        if (m.MsgType != "status") return;
        if (JupyterWire.ReadString(m.Content, "execution_state"u8) is { } state && _lifecycle != KernelLifecycle.Dead)
            _executionState = state;
    }

    /// <summary>Launches the process; readiness is awaited separately through <see cref="Ready"/>.</summary>
    public async Task StartAsync()
    {
        await _lifecycleLock.WaitAsync();
        try
        {
            _launcher.EnsureRuntimeDir();
            Connection.WriteFile(ConnectionFile, Name);
            await LaunchAsync();
        }
        catch (Exception e)
        {
            MarkDead(e.Message);
            throw;
        }
        finally
        {
            _lifecycleLock.Release();
        }
    }

    /// <summary>Starts a process and, in the background, waits for it to answer. Caller holds the lifecycle lock.</summary>
    private async Task LaunchAsync()
    {
        var start = _launcher.Build(Spec, ConnectionFile, _requestEnv, _cwd);
        var ready = Volatile.Read(ref _ready);
        if (ready.Task.IsCompleted) Volatile.Write(ref _ready, ready = NewReady());
        var process = await _launcher.StartAsync(Spec, start);
        _process = process;
        _launcher.WritePidFile(Id, process.Pid);
        _log.LogInformation("kernel {Kernel} ({Name}) started, pid {Pid}: {Argv}", Id, Name, process.Pid, string.Join(' ', start.Argv));
        _ = WatchAsync(process);
        _ = AwaitReadyAsync(process, ready);
    }

    /// <summary>
    /// kernel_info_request until a reply comes and iopub has delivered something since it was sent: only
    /// then is the SUB socket surely subscribed, so no client output can be lost to ZMQ's slow joiner.
    /// </summary>
    private async Task AwaitReadyAsync(ChildProcess process, TaskCompletionSource ready)
    {
        var deadline = DateTime.UtcNow.AddMilliseconds(_options.KernelStartTimeoutMs);
        try
        {
            while (DateTime.UtcNow < deadline && !process.HasExited && _process == process)
            {
                var before = Hub.IopubCount;
                var iopub = Hub.IopubAfterAsync(before);
                var request = Hub.RequestAsync("shell", "kernel_info_request", WireMessage.EmptyObject);
                try
                {
                    await request.WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                    Hub.ForgetPending(request);
                    continue;
                }
                // The reply usually comes with its busy/idle on iopub (often just after it: the kernel's iopub
                // thread sends them); when the SUB joined too late to see them, ask again rather than wait:
                // each round trip takes a few milliseconds. Woken by the message itself, not by polling.
                if (!iopub.IsCompleted)
                    await Task.WhenAny(iopub, Task.Delay(50)).ConfigureAwait(false);
                if (Hub.IopubCount == before) continue;
                if (_lifecycle is KernelLifecycle.Starting or KernelLifecycle.Restarting) _lifecycle = KernelLifecycle.Running;
                ready.TrySetResult();
                return;
            }
            if (process.HasExited || _process != process)
            {
                ready.TrySetException(new KernelStartException($"kernel {Id} exited before it was ready"));
                return;
            }
            _log.LogError("kernel {Kernel} did not answer kernel_info within {Ms} ms; killing it", Id, _options.KernelStartTimeoutMs);
            ready.TrySetException(new KernelStartException($"kernel {Id} did not answer within {_options.KernelStartTimeoutMs} ms"));
            process.SignalGroup(Native.LibcProc.SIGKILL);
        }
        catch (Exception e)
        {
            ready.TrySetException(e);
        }
    }

    /// <summary>Waits until the kernel is ready or <paramref name="timeout"/> passes; false on timeout or failure.</summary>
    public async Task<bool> WaitReadyAsync(TimeSpan timeout, CancellationToken ct = default)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var ready = Ready;
            try
            {
                await ready.WaitAsync(deadline - DateTime.UtcNow is var left && left > TimeSpan.Zero ? left : TimeSpan.Zero, ct).ConfigureAwait(false);
                return true;
            }
            catch (TimeoutException) { return false; }
            catch (OperationCanceledException) { throw; }
            catch (Exception)
            {
                // A failed start may be followed by an automatic restart with a fresh Ready; wait on that one.
                if (!IsAlive || DateTime.UtcNow >= deadline) return false;
                if (ReferenceEquals(ready, Ready)) await Task.Delay(20, ct).ConfigureAwait(false);
            }
        }
    }

    private void MarkDead(string reason)
    {
        _lifecycle = KernelLifecycle.Dead;
        _executionState = "dead";
        _reason = reason;
        Volatile.Read(ref _ready).TrySetException(new KernelStartException(reason));
    }

    public async ValueTask DisposeAsync() => await ShutdownAsync(now: true).ConfigureAwait(false);
}

internal sealed class KernelStartException(string message) : Exception(message);
