using System.Collections;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Hosting;
using Sandbox.Display;
using Sandbox.Gateway;

namespace Sandbox.Hosting;

/// <summary>
/// The service manager's notification protocol (sd_notify), without libsystemd: newline-separated
/// <c>KEY=VALUE</c> lines in one datagram to the Unix socket named by <c>$NOTIFY_SOCKET</c> (a path, or
/// <c>@name</c> for the abstract namespace). Under a <c>Type=notify</c> unit the appliance sends
/// <c>READY=1</c> once both listeners are bound, <c>STATUS=</c> as the display and the gateway come up,
/// <c>WATCHDOG=1</c> every half <c>WatchdogSec=</c> when <c>$WATCHDOG_USEC</c> is set (and
/// <c>$WATCHDOG_PID</c>, if set, is ours), and <c>STOPPING=1</c> when shutdown begins.
/// Sending never throws: a manager that went away must not take the appliance with it.
/// </summary>
/// <remarks>
/// Threading: the status poll and the watchdog run on timer callbacks, READY on the thread that saw both
/// listeners up, STOPPING on the lifetime's; <see cref="Send"/> is safe from all of them (one datagram per
/// call on a connectionless socket, which the kernel delivers whole). Dispose stops both timers.
/// </remarks>
internal sealed class SystemdNotify : IDisposable
{
    /// <summary>The variables the protocol passes to us, removed from what children inherit.</summary>
    internal static readonly string[] Variables = ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"];

    private readonly Socket _socket;
    private readonly UnixDomainSocketEndPoint _target;
    private readonly Lock _statusGate = new();
    private Timer? _watchdog;
    private Timer? _statusPoll;
    private string? _lastStatus;
    private int _ready;
    private int _stopping;
    private volatile bool _disposed;

    internal SystemdNotify(string socketName, TimeSpan? watchdogInterval, TimeSpan statusInterval)
    {
        SocketName = socketName;
        WatchdogInterval = watchdogInterval;
        StatusInterval = statusInterval;
        // '@' names an abstract socket: the address starts with a NUL byte instead.
        _target = new UnixDomainSocketEndPoint(socketName[0] == '@' ? "\0" + socketName[1..] : socketName);
        _socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
    }

    public string SocketName { get; }

    /// <summary>How often WATCHDOG=1 is sent (half the manager's timeout), or null without a watchdog.</summary>
    public TimeSpan? WatchdogInterval { get; }

    /// <summary>How often the status text is recomputed (a datagram goes out only when it changed).</summary>
    public TimeSpan StatusInterval { get; }

    /// <summary>Datagrams that could not be sent (the manager gone, a full queue): reported once in the log, counted here.</summary>
    public int Failures { get; private set; }

    /// <summary>
    /// The notifier for a process started by a <c>Type=notify</c> unit, or null when <c>$NOTIFY_SOCKET</c>
    /// is unset or unusable. The protocol's variables are removed from <paramref name="env"/> and from the
    /// process environment either way, so kernels and other children neither inherit nor misuse them.
    /// </summary>
    public static SystemdNotify? FromEnvironment(IDictionary env, int? ownPid = null)
    {
        var socket = env["NOTIFY_SOCKET"] as string;
        var usec = env["WATCHDOG_USEC"] as string;
        var watchdogPid = env["WATCHDOG_PID"] as string;
        foreach (var name in Variables)
        {
            env.Remove(name);
            Environment.SetEnvironmentVariable(name, null);
        }
        // Only absolute paths and abstract names are valid (sd_notify ignores anything else too); the
        // address must fit sockaddr_un (108 bytes with the terminator).
        if (string.IsNullOrEmpty(socket) || socket.Length < 2 || (socket[0] != '/' && socket[0] != '@')
            || Encoding.UTF8.GetByteCount(socket) > 107)
            return null;
        TimeSpan? watchdog = null;
        var pid = ownPid ?? Environment.ProcessId;
        if (ulong.TryParse(usec, NumberStyles.None, CultureInfo.InvariantCulture, out var us) && us > 0
            && (string.IsNullOrEmpty(watchdogPid) || watchdogPid == pid.ToString(CultureInfo.InvariantCulture)))
            watchdog = TimeSpan.FromMicroseconds(us / 2.0);
        return new SystemdNotify(socket, watchdog, TimeSpan.FromMilliseconds(250));
    }

    /// <summary>Sends one datagram with <paramref name="state"/> (newline-separated assignments); false if it could not go.</summary>
    public bool Send(string state)
    {
        if (_disposed) return false;
        try
        {
            _socket.SendTo(Encoding.UTF8.GetBytes(state), SocketFlags.None, _target);
            return true;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            if (Failures++ == 0 && !_disposed) Console.Error.WriteLine($"sandbox: systemd notification to {SocketName} failed: {e.Message}");
            return false;
        }
    }

    /// <summary>STATUS=<paramref name="status"/>, unless that text was the last one sent.</summary>
    public void Status(string status)
    {
        lock (_statusGate)
        {
            if (status == _lastStatus) return;
            _lastStatus = status;
        }
        Send("STATUS=" + OneLine(status));
    }

    /// <summary>READY=1 with the current status; only the first call sends.</summary>
    public void Ready(string status)
    {
        if (Interlocked.Exchange(ref _ready, 1) != 0) return;
        lock (_statusGate) _lastStatus = status;
        Send("READY=1\nSTATUS=" + OneLine(status) + "\nMAINPID=" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>STOPPING=1: the manager shows "deactivating" and stops expecting watchdog pings; only the first call sends.</summary>
    public void Stopping(string status = "stopping")
    {
        if (Interlocked.Exchange(ref _stopping, 1) != 0) return;
        _statusPoll?.Dispose();
        Send("STOPPING=1\nSTATUS=" + OneLine(status));
    }

    /// <summary>Starts the watchdog pings (no-op without a watchdog). Pings come from a pool timer, so a
    /// starved thread pool shows up as missed pings and the manager restarts us.</summary>
    public void StartWatchdog()
    {
        if (WatchdogInterval is not { } every || _watchdog is not null) return;
        _watchdog = new Timer(static s => ((SystemdNotify)s!).Send("WATCHDOG=1"), this, TimeSpan.Zero, every);
    }

    /// <summary>
    /// Wires the protocol to the appliance's life: READY=1 once the REST listener is bound
    /// (<see cref="IHostApplicationLifetime.ApplicationStarted"/>) and the gateway's start has finished
    /// (bound, or failed: the REST port still serves and the status says why), STATUS= from
    /// <paramref name="describe"/> whenever it changes, the watchdog, and STOPPING=1.
    /// </summary>
    public void Attach(IHostApplicationLifetime lifetime, Task gatewayStart, Func<string> describe)
    {
        StartWatchdog();
        Status("starting");
        lifetime.ApplicationStarted.Register(() =>
            gatewayStart.ContinueWith(_ =>
            {
                if (_stopping != 0 || _disposed) return;
                Ready(SafeDescribe(describe));
                _statusPoll = new Timer(_ => { if (_stopping == 0) Status(SafeDescribe(describe)); }, null, StatusInterval, StatusInterval);
            }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default));
        lifetime.ApplicationStopping.Register(() => Stopping());
    }

    /// <summary>The STATUS= text: what serves and what is still missing, in one line.</summary>
    public static string Describe(DisplayState display, string? displayName, GatewayHealth? gateway)
    {
        var sb = new StringBuilder("serving; display ");
        sb.Append(displayName ?? "(none)").Append(' ').Append(display switch
        {
            DisplayState.Connected => "connected",
            DisplayState.Disconnected => "not connected yet",
            DisplayState.Lost => "lost (reconnecting on demand)",
            DisplayState.Unavailable => "unavailable (X libraries missing)",
            _ => "not configured",
        });
        if (gateway is null || gateway.State == "off")
            sb.Append("; gateway off");
        else
        {
            sb.Append("; gateway ").Append(gateway.State);
            if (gateway.Listen is { } url) sb.Append(" on ").Append(url);
            if (gateway.Mode == "builtin")
                sb.Append(", kernels ready ").Append(gateway.PoolReady.ToString(CultureInfo.InvariantCulture))
                  .Append('/').Append(gateway.PoolTarget.ToString(CultureInfo.InvariantCulture));
        }
        return sb.ToString();
    }

    private static string SafeDescribe(Func<string> describe)
    {
        try { return describe(); }
        catch (Exception e) { return "serving; status unknown: " + e.Message; }
    }

    private static string OneLine(string s) => s.Replace('\n', ' ');

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _watchdog?.Dispose();
        _statusPoll?.Dispose();
        _socket.Dispose();
    }
}
