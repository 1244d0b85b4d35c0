using System.Collections;
using Sandbox.Common;

namespace Sandbox.Gateway;

/// <summary>How the kernel gateway port is served.</summary>
internal enum GatewayMode
{
    /// <summary>Our own Kernel Gateway compatible server (the default).</summary>
    Builtin,
    /// <summary>A supervised external command (by default <c>jupyter kernelgateway</c>) owns the port.</summary>
    External,
    /// <summary>Nothing listens on the gateway port.</summary>
    Off,
}

/// <summary>
/// Settings of the Kernel Gateway compatible server, read once from the environment and validated at
/// start. Kernel Gateway's own <c>KG_*</c> names are honoured; our additions are <c>SANDBOX_*</c>.
/// Every limit is here so that none is a magic number in the code (README "Kernel gateway").
/// </summary>
internal sealed class GatewayOptions
{
    public GatewayMode Mode { get; init; } = GatewayMode.Builtin;
    public string Host { get; init; } = "0.0.0.0";
    public int Port { get; init; } = 8888;
    public string SharedDir { get; init; } = "/tmp/sandbox-server";
    /// <summary>Log file name (relative to SHARED_DIR) or absolute path.</summary>
    public string LogFile { get; init; } = "jupyter-kernel.log";
    /// <summary>Size at which the gateway log is rotated to <c>.1</c> (<c>SANDBOX_LOG_MAX_BYTES</c>, shared with start.sh's log); 0 = never.</summary>
    public long LogMaxBytes { get; init; } = 512_000;

    public string? DefaultKernelName { get; init; }
    public string? AuthToken { get; init; }
    public bool ListKernels { get; init; } = true;
    public IReadOnlyList<string> EnvWhitelist { get; init; } = [];

    /// <summary>Extra Host names admitted (<c>SANDBOX_ALLOW_HOSTS</c>, shared with the REST port).</summary>
    public IReadOnlyList<string> AllowHosts { get; init; } = [];
    /// <summary>Browser origins admitted: <c>SANDBOX_ALLOW_ORIGINS</c> plus <c>KG_ALLOW_ORIGIN</c>.</summary>
    public IReadOnlyList<string> AllowOrigins { get; init; } = [];

    // CORS, as Kernel Gateway's KG_ALLOW_* settings.
    public string? AllowOrigin { get; init; }
    public string? AllowHeaders { get; init; }
    public string? AllowMethods { get; init; }
    public string? AllowCredentials { get; init; }
    public string? ExposeHeaders { get; init; }
    public string? MaxAge { get; init; }

    /// <summary>Kernels started at boot and kept ready for a plain <c>POST /api/kernels</c>.</summary>
    public int PrespawnCount { get; init; } = 1;
    /// <summary>Most kernels clients may hold at once (bounded by default: each is a Python process); 0 = unlimited. Pooled kernels are not counted.</summary>
    public int MaxKernels { get; init; } = 32;

    /// <summary>Idle kernels older than this are shut down, seconds; 0 = never (jupyter_server's cull_idle_timeout).</summary>
    public int CullIdleTimeoutSeconds { get; init; }
    public int CullIntervalSeconds { get; init; } = 300;
    public bool CullConnected { get; init; }
    public bool CullBusy { get; init; }

    /// <summary>How long a kernel may take from launch to its first kernel_info_reply, milliseconds.</summary>
    public int KernelStartTimeoutMs { get; init; } = 60_000;
    /// <summary>How long the WebSocket upgrade waits for kernel_info_reply before accepting anyway (jupyter_server: 10 s).</summary>
    public int KernelInfoTimeoutMs { get; init; } = 10_000;
    /// <summary>Grace after shutdown_request before SIGKILL to the kernel's process group, milliseconds.</summary>
    public int ShutdownWaitMs { get; init; } = 5_000;

    /// <summary>At the appliance's exit, how long the gateway's listener may take to finish open requests, ms.</summary>
    public int StopTimeoutMs { get; init; } = 2_000;

    /// <summary>
    /// Ports kernels are given (inclusive), or null for any free port (bind to port 0, as jupyter_client).
    /// The default lies below Linux's ephemeral range (32768–60999), so no outgoing connection, the
    /// gateway's own to other kernels included, can hold a kernel's port when the kernel binds it.
    /// </summary>
    public (int Low, int High)? KernelPortRange { get; init; } = (20_000, 29_999);
    /// <summary>Automatic restarts allowed within <see cref="RestartWindowSeconds"/> before the kernel is declared dead.</summary>
    public int RestartLimit { get; init; } = 5;
    public int RestartWindowSeconds { get; init; } = 60;

    /// <summary>Largest WebSocket message accepted from a client, bytes; larger closes with 1009 (tornado's default is 10 MiB).</summary>
    public int MaxMessageBytes { get; init; } = 10 * 1024 * 1024;
    /// <summary>Bytes queued to one slow WebSocket client before it is disconnected.</summary>
    public long MaxSendQueueBytes { get; init; } = 64L * 1024 * 1024;
    /// <summary>Bytes kept for a session whose last connection went away, replayed when it reconnects.</summary>
    public long MaxReplayBufferBytes { get; init; } = 16L * 1024 * 1024;
    /// <summary>Largest REST request body on the gateway port, bytes.</summary>
    public long MaxRequestBodyBytes { get; init; } = 1024 * 1024;
    /// <summary>WebSocket ping interval, seconds (0 = none).</summary>
    public int WebSocketPingSeconds { get; init; } = 30;

    // iopub rate limiting, as jupyter_server's ServerApp.iopub_msg_rate_limit/iopub_data_rate_limit/rate_limit_window.
    public bool LimitRate { get; init; } = true;
    public double IopubMsgRateLimit { get; init; } = 1000;
    public double IopubDataRateLimit { get; init; } = 1_000_000;
    public double RateLimitWindowSeconds { get; init; } = 3;

    /// <summary>Extra directories searched first for kernelspecs (JUPYTER_PATH entries + /kernels).</summary>
    public IReadOnlyList<string> JupyterPath { get; init; } = [];
    public string? JupyterDataDir { get; init; }
    public string? Home { get; init; }

    /// <summary>Working directory of kernels; null = the appliance's own.</summary>
    public string? KernelCwd { get; init; }

    /// <summary>Kernel venv: used when it exists, created with uv when it does not and uv is on PATH.</summary>
    public string? VenvPath { get; init; }
    public IReadOnlyList<string> VenvPackages { get; init; } = [];
    public string? UvPath { get; init; }
    public int VenvCreateTimeoutSeconds { get; init; } = 600;

    /// <summary>Wrap kernels in <c>setpriv --pdeathsig KILL</c> when available, so a crashed appliance takes them along.</summary>
    public bool KernelDeathSignal { get; init; } = true;

    /// <summary>Fork Python ipykernel kernels from a zygote that imported ipykernel once (<c>SANDBOX_KERNEL_ZYGOTE</c>); false = exec each.</summary>
    public bool KernelZygote { get; init; } = true;

    /// <summary>External mode: the command (run by /bin/sh -c) or null for the jupyter kernelgateway default.</summary>
    public string? ExternalCommand { get; init; }
    public int ExternalBackoffMinMs { get; init; } = 1_000;
    public int ExternalBackoffMaxMs { get; init; } = 30_000;

    public string LogPath => Path.IsPathRooted(LogFile) ? LogFile : Path.Combine(SharedDir, LogFile);
    public string RuntimeDir => Path.Combine(SharedDir, "kernels");

    /// <summary>The kernel name a request without one gets.</summary>
    public string ResolvedDefaultKernelName => DefaultKernelName ?? "python3";

    public static GatewayOptions FromEnvironment(IDictionary env)
    {
        var r = new EnvReader(env);
        var modeText = r.String("SANDBOX_KERNEL_GATEWAY") ?? "builtin";
        var mode = modeText.Trim().ToLowerInvariant() switch
        {
            "builtin" or "internal" or "1" or "true" or "on" => GatewayMode.Builtin,
            "external" => GatewayMode.External,
            "off" or "0" or "false" or "none" => GatewayMode.Off,
            _ => Fail(r, $"SANDBOX_KERNEL_GATEWAY={modeText}: expected builtin, external or off"),
        };
        var o = new GatewayOptions
        {
            Mode = mode,
            Host = r.String("JUPYTER_KERNEL_GATEWAY_APP_HOST", "KG_IP") ?? "0.0.0.0",
            Port = PortOf(r),
            SharedDir = r.String("SHARED_DIR") ?? "/tmp/sandbox-server",
            LogFile = r.String("JUPYTER_KERNEL_GATEWAY_APP_LOG") ?? "jupyter-kernel.log",
            LogMaxBytes = r.Int("SANDBOX_LOG_MAX_BYTES", 512_000, 0, int.MaxValue),
            DefaultKernelName = r.String("JUPYTER_KERNEL_NAME", "KG_DEFAULT_KERNEL_NAME"),
            // One secret for the whole appliance unless the gateway is given its own.
            AuthToken = r.String("KG_AUTH_TOKEN") ?? r.String("SANDBOX_TOKEN"),
            ListKernels = r.Bool("KG_LIST_KERNELS", true),
            EnvWhitelist = List(r.String("KG_ENV_WHITELIST")),
            AllowOrigin = r.String("KG_ALLOW_ORIGIN"),
            AllowHosts = Sandbox.Web.GuardPolicy.ParseList(r.String("SANDBOX_ALLOW_HOSTS")),
            AllowOrigins = [.. Sandbox.Web.GuardPolicy.ParseList(r.String("SANDBOX_ALLOW_ORIGINS")), .. Sandbox.Web.GuardPolicy.ParseList(r.String("KG_ALLOW_ORIGIN"))],
            AllowHeaders = r.String("KG_ALLOW_HEADERS"),
            AllowMethods = r.String("KG_ALLOW_METHODS"),
            AllowCredentials = r.String("KG_ALLOW_CREDENTIALS"),
            ExposeHeaders = r.String("KG_EXPOSE_HEADERS"),
            MaxAge = r.String("KG_MAX_AGE"),
            PrespawnCount = r.Int("KG_PRESPAWN_COUNT", 1, 0, 64),
            MaxKernels = r.Int("KG_MAX_KERNELS", 32, 0, 10_000),
            CullIdleTimeoutSeconds = r.Int("KG_CULL_IDLE_TIMEOUT", 0, 0, int.MaxValue),
            CullIntervalSeconds = r.Int("KG_CULL_INTERVAL", 300, 1, 86_400),
            CullConnected = r.Bool("KG_CULL_CONNECTED", false),
            CullBusy = r.Bool("KG_CULL_BUSY", false),
            KernelStartTimeoutMs = r.Int("SANDBOX_KERNEL_START_TIMEOUT_MS", 60_000, 100, 3_600_000),
            KernelInfoTimeoutMs = r.Int("SANDBOX_KERNEL_INFO_TIMEOUT_MS", 10_000, 10, 600_000),
            ShutdownWaitMs = r.Int("SANDBOX_KERNEL_SHUTDOWN_WAIT_MS", 5_000, 0, 600_000),
            StopTimeoutMs = r.Int("SANDBOX_KG_STOP_TIMEOUT_MS", 2_000, 0, 600_000),
            KernelPortRange = PortRange(r, "SANDBOX_KERNEL_PORT_RANGE", (20_000, 29_999)),
            RestartLimit = r.Int("SANDBOX_KERNEL_RESTART_LIMIT", 5, 0, 1000),
            RestartWindowSeconds = r.Int("SANDBOX_KERNEL_RESTART_WINDOW", 60, 1, 86_400),
            MaxMessageBytes = r.Int("SANDBOX_WS_MAX_MESSAGE_BYTES", 10 * 1024 * 1024, 1024, int.MaxValue),
            MaxSendQueueBytes = r.Int("SANDBOX_WS_MAX_SEND_QUEUE_BYTES", 64 * 1024 * 1024, 64 * 1024, int.MaxValue),
            MaxReplayBufferBytes = r.Int("SANDBOX_WS_REPLAY_BUFFER_BYTES", 16 * 1024 * 1024, 0, int.MaxValue),
            MaxRequestBodyBytes = r.Int("SANDBOX_KG_MAX_BODY_BYTES", 1024 * 1024, 1024, int.MaxValue),
            WebSocketPingSeconds = r.Int("SANDBOX_WS_PING_SECONDS", 30, 0, 3600),
            LimitRate = r.Bool("KG_LIMIT_RATE", true),
            IopubMsgRateLimit = r.Double("KG_IOPUB_MSG_RATE_LIMIT", 1000, 0, double.MaxValue),
            IopubDataRateLimit = r.Double("KG_IOPUB_DATA_RATE_LIMIT", 1_000_000, 0, double.MaxValue),
            RateLimitWindowSeconds = r.Double("KG_RATE_LIMIT_WINDOW", 3, 0.001, 3600),
            JupyterPath = PathList(r.String("JUPYTER_PATH")),
            JupyterDataDir = r.String("JUPYTER_DATA_DIR"),
            Home = r.String("HOME"),
            KernelCwd = r.String("SANDBOX_KERNEL_CWD"),
            VenvPath = r.String("SANDBOX_KERNEL_VENV"),
            VenvPackages = List(r.String("SANDBOX_KERNEL_PACKAGES")),
            UvPath = r.String("SANDBOX_UV"),
            VenvCreateTimeoutSeconds = r.Int("SANDBOX_KERNEL_VENV_TIMEOUT", 600, 1, 86_400),
            KernelDeathSignal = r.Bool("SANDBOX_KERNEL_PDEATHSIG", true),
            KernelZygote = r.Bool("SANDBOX_KERNEL_ZYGOTE", true),
            ExternalCommand = r.String("SANDBOX_KERNEL_GATEWAY_COMMAND"),
            ExternalBackoffMinMs = r.Int("SANDBOX_KERNEL_GATEWAY_BACKOFF_MIN_MS", 1_000, 10, 600_000),
            ExternalBackoffMaxMs = r.Int("SANDBOX_KERNEL_GATEWAY_BACKOFF_MAX_MS", 30_000, 10, 3_600_000),
        };
        if (o.ExternalBackoffMaxMs < o.ExternalBackoffMinMs)
            r.Fail("SANDBOX_KERNEL_GATEWAY_BACKOFF_MAX_MS must not be below SANDBOX_KERNEL_GATEWAY_BACKOFF_MIN_MS");
        if (o.VenvPath is { } v && !Path.IsPathRooted(v))
            r.Fail($"SANDBOX_KERNEL_VENV={v}: expected an absolute path");
        r.ThrowIfInvalid();
        return o;
    }

    /// <summary>"LOW-HIGH" (at least 50 ports, so five kernels' worth can always be found), or "0" for any free port.</summary>
    private static (int, int)? PortRange(EnvReader r, string name, (int, int) fallback)
    {
        var s = r.String(name);
        if (s is null) return fallback;
        if (s.Trim() == "0") return null;
        var parts = s.Split('-', StringSplitOptions.TrimEntries);
        if (parts.Length == 2 && int.TryParse(parts[0], System.Globalization.CultureInfo.InvariantCulture, out var low)
            && int.TryParse(parts[1], System.Globalization.CultureInfo.InvariantCulture, out var high)
            && low >= 1024 && high <= 65535 && high - low + 1 >= 50)
            return (low, high);
        r.Fail($"{name}={s}: expected LOW-HIGH (1024-65535, at least 50 ports) or 0 for any free port");
        return fallback;
    }

    private static GatewayMode Fail(EnvReader r, string message)
    {
        r.Fail(message);
        return GatewayMode.Builtin;
    }

    private static int PortOf(EnvReader r) =>
        r.String("JUPYTER_KERNEL_GATEWAY_APP_PORT") is not null
            ? r.Int("JUPYTER_KERNEL_GATEWAY_APP_PORT", 8888, 0, 65535)
            : r.Int("KG_PORT", 8888, 0, 65535);

    private static string[] List(string? s) =>
        s is null ? [] : s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static string[] PathList(string? s) =>
        s is null ? [] : s.Split(':', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
