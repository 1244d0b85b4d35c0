using Sandbox.Common;
using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Logging;
using Sandbox.Native;

namespace Sandbox.Gateway;

internal sealed partial class Kernel
{
    /// <summary>Raised after the kernel is gone for good (shut down, or dead past the restart limit).</summary>
    public event Action<Kernel>? Ended;

    /// <summary>
    /// Reaps the process and, when it died on its own, restarts it on the same ports, as jupyter_client's
    /// KernelRestarter: clients see status "restarting", or "dead" once the restart limit is exceeded.
    /// </summary>
    private async Task WatchAsync(ChildProcess process)
    {
        var status = await process.Exited.ConfigureAwait(false);
        if (_process != process) return;
        var lifecycle = _lifecycle;
        if (lifecycle is KernelLifecycle.ShuttingDown or KernelLifecycle.Gone or KernelLifecycle.Dead) return;
        // A manual restart in progress replaces the process itself.
        if (lifecycle == KernelLifecycle.Restarting && _manualRestart) return;

        _log.LogWarning("kernel {Kernel} died ({Status}); restarting", Id, ChildProcess.Describe(status));
        await _lifecycleLock.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_process != process || _lifecycle is KernelLifecycle.ShuttingDown or KernelLifecycle.Gone or KernelLifecycle.Dead) return;
            var now = Stopwatch.GetTimestamp();
            _autoRestarts.Enqueue(now);
            while (_autoRestarts.Count > 0 && Stopwatch.GetElapsedTime(_autoRestarts.Peek(), now).TotalSeconds > _options.RestartWindowSeconds)
                _autoRestarts.Dequeue();
            if (_autoRestarts.Count > _options.RestartLimit)
            {
                _log.LogError("kernel {Kernel} died {Count} times within {Window} s; giving up", Id, _autoRestarts.Count, _options.RestartWindowSeconds);
                MarkDead($"kernel died {_autoRestarts.Count} times within {_options.RestartWindowSeconds} s");
                Hub.PublishStatus("dead");
                process.SignalGroup(LibcProc.SIGKILL);
                return;
            }
            _lifecycle = KernelLifecycle.Restarting;
            _executionState = "restarting";
            Hub.PublishStatus("restarting");
            // Whatever the dead kernel started in its group goes with it (jupyter_client kills the group too).
            process.SignalGroup(LibcProc.SIGKILL);
            Interlocked.Increment(ref _restarts);
            await LaunchAsync().ConfigureAwait(false);
        }
        catch (Exception e)
        {
            _log.LogError(e, "kernel {Kernel}: restart failed", Id);
            MarkDead("restart failed: " + e.Message);
            Hub.PublishStatus("dead");
        }
        finally
        {
            _lifecycleLock.Release();
        }
        if (_lifecycle == KernelLifecycle.Dead) RaiseEnded();
    }

    private void RaiseEnded()
    {
        Connection.Release();
        Ended?.Invoke(this);
    }

    private volatile bool _manualRestart;

    /// <summary>SIGINT to the kernel's process group, or interrupt_request on control when the spec says "message".</summary>
    public async Task InterruptAsync()
    {
        Touch();
        if (Spec.InterruptByMessage)
        {
            var reply = Hub.RequestAsync("control", "interrupt_request", WireMessage.EmptyObject);
            try { await reply.WaitAsync(TimeSpan.FromMilliseconds(_options.ShutdownWaitMs)).ConfigureAwait(false); }
            catch (TimeoutException) { Hub.ForgetPending(reply); }
            return;
        }
        _process?.SignalGroup(LibcProc.SIGINT);
    }

    /// <summary>
    /// Restarts in place (same id, ports and key): shutdown_request with restart=true, a bounded wait,
    /// SIGKILL to the group if needed, a new process; returns once it is ready, as jupyter_server does.
    /// </summary>
    public async Task RestartAsync()
    {
        await _lifecycleLock.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_lifecycle is KernelLifecycle.ShuttingDown or KernelLifecycle.Gone)
                throw new InvalidOperationException("kernel is shutting down");
            _manualRestart = true;
            _lifecycle = KernelLifecycle.Restarting;
            _reason = null;
            await StopProcessAsync(restart: true).ConfigureAwait(false);
            _executionState = "starting";
            _autoRestarts.Clear();
            await LaunchAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is not InvalidOperationException)
        {
            MarkDead("restart failed: " + e.Message);
            throw;
        }
        finally
        {
            _manualRestart = false;
            _lifecycleLock.Release();
        }
        Touch();
        if (!await WaitReadyAsync(TimeSpan.FromMilliseconds(_options.KernelStartTimeoutMs)).ConfigureAwait(false))
            throw new KernelStartException($"kernel {Id} did not come back after restart");
    }

    /// <summary>Stops the kernel for good: graceful shutdown_request unless <paramref name="now"/>, then SIGKILL to its group.</summary>
    public async Task ShutdownAsync(bool now = false)
    {
        await _lifecycleLock.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_lifecycle == KernelLifecycle.Gone) return;
            _lifecycle = KernelLifecycle.ShuttingDown;
            if (now) KillNow();
            else await StopProcessAsync(restart: false).ConfigureAwait(false);
            _lifecycle = KernelLifecycle.Gone;
            _executionState = "dead";
            Hub.Dispose();
            _launcher.RemoveFiles(Id);
            _log.LogInformation("kernel {Kernel} shut down", Id);
        }
        finally
        {
            _lifecycleLock.Release();
        }
        RaiseEnded();
    }

    /// <summary>Kills the process group at once; for the appliance's own exit (no time for courtesy).</summary>
    public void KillNow()
    {
        if (_process is { } p)
        {
            p.SignalGroup(LibcProc.SIGKILL);
            p.Signal(LibcProc.SIGKILL);
        }
    }

    private async Task StopProcessAsync(bool restart)
    {
        var process = _process;
        if (process is null || process.HasExited) return;
        var content = Encoding.UTF8.GetBytes(restart ? "{\"restart\":true}" : "{\"restart\":false}");
        var reply = Hub.RequestAsync("control", "shutdown_request", content);
        var wait = TimeSpan.FromMilliseconds(_options.ShutdownWaitMs);
        try
        {
            await process.Exited.WaitAsync(wait).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            _log.LogWarning("kernel {Kernel} did not exit within {Ms} ms of shutdown_request; killing it", Id, _options.ShutdownWaitMs);
            process.SignalGroup(LibcProc.SIGKILL);
            process.Signal(LibcProc.SIGKILL);
            await process.Exited.ConfigureAwait(false);
        }
        finally
        {
            Hub.ForgetPending(reply);
        }
    }
}
