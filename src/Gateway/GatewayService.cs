using System.Collections;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using Sandbox.Web;

namespace Sandbox.Gateway;

/// <summary>Where the gateway is in its life, for /health.</summary>
internal enum GatewayServiceState
{
    Stopped,
    Listening,
    Failed,
}

/// <summary>
/// The gateway area's root: builds the log, the kernel machinery and the WebApplication (built-in
/// mode) or the supervisor of an external command (external mode), starts them so that the socket is
/// bound first and kernels are prespawned in the background, and reports their state for /health.
/// </summary>
internal sealed class GatewayService : IAsyncDisposable
{
    private readonly GatewayLog _log;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _logger;
    private GatewayServiceState _state = GatewayServiceState.Stopped;
    private string? _error;

    public GatewayService(GatewayOptions options, IDictionary environment)
    {
        Options = options;
        _log = new GatewayLog(options.LogPath, maxBytes: options.LogMaxBytes);
        // Made directly, not through LoggerFactory.Create's DI container (milliseconds at cold start under Native AOT).
        _loggers = new LoggerFactory([_log], new LoggerFilterOptions { MinLevel = LogLevel.Information });
        _logger = _loggers.CreateLogger("Gateway");
        if (options.Mode == GatewayMode.Builtin)
        {
            Venv = new KernelVenv(options, _loggers.CreateLogger("KernelVenv"));
            var launcher = new KernelLauncher(options, environment, _loggers.CreateLogger("KernelLauncher"));
            var specs = new KernelSpecCatalog(options, () => Venv.ReadyRoot);
            Kernels = new KernelManager(options, specs, launcher, _loggers, Venv.EnsureAsync);
            State = new GatewayState(options, Kernels, _loggers.CreateLogger("Channels"));
        }
        else if (options.Mode == GatewayMode.External)
        {
            External = new ExternalGateway(options, environment, _log, _loggers.CreateLogger("ExternalGateway"));
        }
    }

    public GatewayOptions Options { get; }
    public KernelManager? Kernels { get; }
    public GatewayState? State { get; }
    public KernelVenv? Venv { get; }
    public ExternalGateway? External { get; }
    public WebApplication? App { get; private set; }

    /// <summary>The address the built-in server listens on (port resolved when 0 was asked for).</summary>
    public string? ListenUrl { get; private set; }

    private PreBoundPort? _reserved;

    /// <summary>
    /// Binds the built-in server's port now, before <see cref="StartAsync"/> builds its host (which the appliance
    /// defers until after its first REST answer): a client that connects in between waits in the backlog
    /// instead of being refused. A failure (the port is taken) is left for <see cref="StartAsync"/> to report.
    /// </summary>
    public void ReservePort()
    {
        if (State is null || _reserved is not null) return;
        try { _reserved = PreBoundPort.Bind(Options.Host, Options.Port); }
        catch (System.Net.Sockets.SocketException) { }
    }

    /// <summary>Binds the port (built-in) or launches the command (external); kernels start in the background.</summary>
    public async Task StartAsync(CancellationToken ct = default)
    {
        try
        {
            if (State is not null)
            {
                var reserved = _reserved;
                _reserved = null;
                App = GatewayApp.Build(State, _log, reserved);
                Sandbox.Common.StartupTrace.Mark("gateway-built");
                await App.StartAsync(ct).ConfigureAwait(false);
                Sandbox.Common.StartupTrace.Mark("gateway-started");
                ListenUrl = reserved?.Url ?? App.Urls.FirstOrDefault();
                _state = GatewayServiceState.Listening;
                _logger.LogInformation("kernel gateway listening on {Url}", ListenUrl);
                Venv!.StartInBackground();
                Kernels!.Start();
            }
            else if (External is not null)
            {
                External.Start();
                _state = GatewayServiceState.Listening;
            }
        }
        catch (Exception e)
        {
            _state = GatewayServiceState.Failed;
            _error = e.Message;
            _logger.LogError(e, "kernel gateway failed to start");
            throw;
        }
    }

    /// <summary>Last resort on the way out (SIGTERM, unhandled exception): no kernel may outlive the appliance.</summary>
    public void KillEverything()
    {
        Kernels?.KillAll();
        External?.KillNow();
    }

    public GatewayHealth Health()
    {
        var mode = Options.Mode.ToString().ToLowerInvariant();
        if (Kernels is not null)
        {
            var kernels = Kernels.Kernels;
            var (ready, starting) = Kernels.PoolState();
            return new GatewayHealth(mode, _state.ToString().ToLowerInvariant(), ListenUrl, kernels.Count,
                kernels.Sum(k => k.Hub.ConnectedClients), ready, starting, Options.PrespawnCount, Venv?.Describe(), null,
                kernels.Select(k => new KernelHealth(k.Id, k.Name, k.ExecutionState, k.Hub.ConnectedClients, k.Pid, k.Restarts)).ToArray(),
                _error);
        }
        if (External is not null)
        {
            return new GatewayHealth(mode, _state.ToString().ToLowerInvariant(), $"http://{Options.Host}:{Options.Port}", 0, 0, 0, 0, 0, null,
                External.Health(), null, _error);
        }
        return new GatewayHealth(mode, "off", null, 0, 0, 0, 0, 0, null, null, null, null);
    }

    public async ValueTask DisposeAsync()
    {
        // Kestrel's stop waits for open requests, and a kernel's WebSocket is one until its handler returns:
        // shut the kernels down first (that closes their connections), then stop the listener within a bound.
        if (Kernels is not null) await Kernels.DisposeAsync().ConfigureAwait(false);
        if (App is not null)
        {
            using var bound = new CancellationTokenSource(TimeSpan.FromMilliseconds(Options.StopTimeoutMs));
            try { await App.StopAsync(bound.Token).ConfigureAwait(false); } catch (Exception) { /* stopping anyway */ }
            await App.DisposeAsync().ConfigureAwait(false);
        }
        if (External is not null) await External.DisposeAsync().ConfigureAwait(false);
        _reserved?.Dispose();
        _state = GatewayServiceState.Stopped;
        _loggers.Dispose();
        _log.Dispose();
    }
}
