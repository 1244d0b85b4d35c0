using Sandbox.Common;
using System.Collections;
using Microsoft.Extensions.Logging;
using Sandbox.Native;

namespace Sandbox.Gateway;

/// <summary>Where the external gateway command is.</summary>
internal enum ExternalState
{
    Stopped,
    Running,
    /// <summary>Exited; waiting out the backoff before the next start.</summary>
    Backoff,
    /// <summary>Could not be started at all (command not found); retried with backoff.</summary>
    Failed,
}

/// <summary>
/// SANDBOX_KERNEL_GATEWAY=external: runs a gateway command in place of the built-in server (by default
/// the old start.sh's <c>jupyter kernelgateway</c> line), restarts it with exponential backoff when it
/// exits, and reports it in /health. It runs in its own process group with the parent-death signal, and
/// on the appliance's exit gets SIGTERM (so it can stop its kernels) and then SIGKILL.
/// </summary>
internal sealed class ExternalGateway(GatewayOptions options, IDictionary environment, GatewayLog file, ILogger log) : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private volatile ExternalState _state = ExternalState.Stopped;
    private volatile ChildProcess? _process;
    private int _restarts;
    private int? _lastExit;
    private Task? _loop;

    public string CommandLine => options.ExternalCommand ??
        $"jupyter kernelgateway --KernelGatewayApp.ip={options.Host} --KernelGatewayApp.port={options.Port} --KernelGatewayApp.allow_origin='*'";

    public ExternalGatewayHealth Health() =>
        new(_state.ToString().ToLowerInvariant(), _process is { HasExited: false } p ? p.Pid : null, Volatile.Read(ref _restarts), _lastExit, CommandLine);

    public void Start() => _loop = Task.Run(() => SuperviseAsync(_stop.Token));

    private ChildStart Build()
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry e in environment)
            if (e.Key is string k && e.Value is string v) env[k] = v;
        env["JUPYTER_KERNEL_GATEWAY_APP_HOST"] = options.Host;
        env["JUPYTER_KERNEL_GATEWAY_APP_PORT"] = options.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        List<string> argv;
        if (options.ExternalCommand is { } command)
        {
            argv = ["/bin/sh", "-c", command];
        }
        else
        {
            var jupyter = Lookup.Executable("jupyter", env.GetValueOrDefault("PATH"))
                ?? throw new SpawnException("jupyter is not on PATH");
            argv = [jupyter, "kernelgateway", $"--KernelGatewayApp.ip={options.Host}", $"--KernelGatewayApp.port={options.Port}", "--KernelGatewayApp.allow_origin=*"];
        }
        var setpriv = options.KernelDeathSignal ? new[] { "/usr/bin/setpriv", "/bin/setpriv" }.FirstOrDefault(File.Exists) : null;
        if (setpriv is not null) argv.InsertRange(0, [setpriv, "--pdeathsig", "KILL"]);
        return new ChildStart(argv[0], argv, env, null, options.LogPath);
    }

    private async Task SuperviseAsync(CancellationToken ct)
    {
        var failures = 0;
        while (!ct.IsCancellationRequested)
        {
            var started = DateTime.UtcNow;
            try
            {
                var process = await ChildProcess.StartAsync(Build()).ConfigureAwait(false);
                _process = process;
                _state = ExternalState.Running;
                log.LogInformation("external gateway started, pid {Pid}: {Command}", process.Pid, CommandLine);
                var status = await process.Exited.ConfigureAwait(false);
                _lastExit = LibcProc.WIfExited(status) ? LibcProc.WExitStatus(status) : 128 + LibcProc.WTermSig(status);
                if (ct.IsCancellationRequested) break;
                log.LogWarning("external gateway exited ({Status})", ChildProcess.Describe(status));
                _state = ExternalState.Backoff;
            }
            catch (SpawnException e)
            {
                log.LogError("external gateway cannot start: {Error}", e.Message);
                _state = ExternalState.Failed;
            }
            // A run that lasted a while resets the backoff: it was a crash, not a crash loop.
            failures = DateTime.UtcNow - started > TimeSpan.FromMinutes(1) ? 1 : failures + 1;
            var delay = Math.Min(options.ExternalBackoffMaxMs, options.ExternalBackoffMinMs * Math.Pow(2, Math.Min(failures - 1, 20)));
            Interlocked.Increment(ref _restarts);
            try { await Task.Delay(TimeSpan.FromMilliseconds(delay), ct).ConfigureAwait(false); }
            catch (OperationCanceledException) { break; }
        }
        _state = ExternalState.Stopped;
    }

    public void KillNow()
    {
        _stop.Cancel();
        if (_process is { } p)
        {
            p.SignalGroup(LibcProc.SIGKILL);
            p.Signal(LibcProc.SIGKILL);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        if (_process is { HasExited: false } p)
        {
            p.SignalGroup(LibcProc.SIGTERM);
            if (await Task.WhenAny(p.Exited, Task.Delay(options.ShutdownWaitMs)).ConfigureAwait(false) != p.Exited)
            {
                p.SignalGroup(LibcProc.SIGKILL);
                p.Signal(LibcProc.SIGKILL);
            }
        }
        if (_loop is not null) await _loop.ConfigureAwait(false);
        _ = file;
    }
}
