using Microsoft.Extensions.Logging;
using Sandbox.Common;
using Tmds.DBus.Protocol;

namespace Sandbox.Accessibility;

/// <summary>
/// The connection to the accessibility bus, opened on first use and reopened after it is lost. The
/// address comes from <c>AT_SPI_BUS_ADDRESS</c>, else from <c>org.a11y.Bus.GetAddress</c> on the
/// session bus, else from the X root window's <c>AT_SPI_BUS</c> property. On connecting it turns
/// accessibility on (<c>org.a11y.Status.IsEnabled</c>, and <c>ScreenReaderEnabled</c> unless disabled)
/// and registers event listeners (which is also what makes GTK's bridge publish its cache): the object events the
/// detail cache follows (<see cref="DetailCache"/>), or only children-changed when the cache is off.
/// </summary>
internal sealed class AtspiBus(AccessibilityOptions options, IDictionary<string, string?> env, Func<string?>? rootWindowAddress, ILogger log)
    : IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private AtspiClient? _client;
    private DBusConnection? _session;
    private DateTime _lastFailure = DateTime.MinValue;
    private string? _lastError;
    private bool _disposed;

    /// <summary>The address in use, once connected (for health and errors).</summary>
    public string? Address { get; private set; }

    public async Task<AtspiClient> GetAsync(CancellationToken ct)
    {
        var c = _client;
        if (c is not null && !IsClosed(c.Connection)) return c;
        if (!await _gate.WaitAsync(options.ConnectTimeoutMs, ct))
            throw SandboxException.Unavailable("the accessibility bus connection is being set up; try again");
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            c = _client;
            if (c is not null && !IsClosed(c.Connection)) return c;
            _client = null;
            c?.Dispose();
            // After a failure, do not retry on every request: a desktop without AT-SPI answers 503 at once.
            if (_lastError is not null && DateTime.UtcNow - _lastFailure < TimeSpan.FromMilliseconds(options.RetryAfterFailureMs))
                throw SandboxException.Unavailable(_lastError);
            try
            {
                var task = ConnectAsync();
                if (await Task.WhenAny(task, Task.Delay(options.ConnectTimeoutMs, ct)) != task)
                {
                    _ = task.ContinueWith(t => { if (t.IsCompletedSuccessfully) t.Result.Dispose(); }, TaskScheduler.Default);
                    throw new TimeoutException($"no answer within {options.ConnectTimeoutMs} ms");
                }
                _client = await task;
                _lastError = null;
                return _client;
            }
            catch (Exception e) when (e is not SandboxException and not OperationCanceledException)
            {
                _lastFailure = DateTime.UtcNow;
                _lastError = "no accessibility bus: " + e.Message;
                log.LogWarning(e, "accessibility bus unavailable");
                throw SandboxException.Unavailable(_lastError);
            }
        }
        finally { _gate.Release(); }
    }

    /// <summary>Drops the connection after an error that says it is gone, so the next request reconnects.</summary>
    public void Invalidate(AtspiClient client)
    {
        if (Interlocked.CompareExchange(ref _client, null, client) == client) client.Dispose();
    }

    private static bool IsClosed(DBusConnection c)
    {
        var t = c.DisconnectedAsync();
        return t.IsCompleted;
    }

    private async Task<AtspiClient> ConnectAsync()
    {
        var address = env.TryGetValue("AT_SPI_BUS_ADDRESS", out var a) ? a : null;
        var sessionAddress = env.TryGetValue("DBUS_SESSION_BUS_ADDRESS", out var s) ? s : null;
        string? sessionError = null;
        if (string.IsNullOrEmpty(address) && !string.IsNullOrEmpty(sessionAddress))
        {
            try
            {
                _session ??= await OpenAsync(sessionAddress);
                address = await GetBusAddressAsync(_session);
                if (options.EnableAccessibility) await EnableAsync(_session);
            }
            catch (Exception e)
            {
                sessionError = e.Message;
                _session?.Dispose();
                _session = null;
            }
        }
        if (string.IsNullOrEmpty(address)) address = rootWindowAddress?.Invoke();
        if (string.IsNullOrEmpty(address))
            throw new InvalidOperationException(sessionError is not null
                ? $"org.a11y.Bus on the session bus did not answer ({sessionError}); AT_SPI_BUS_ADDRESS is unset and the root window has no AT_SPI_BUS"
                : "AT_SPI_BUS_ADDRESS and DBUS_SESSION_BUS_ADDRESS are unset and the root window has no AT_SPI_BUS property");
        var connection = await OpenAsync(address);
        var client = NewClient(options.DetailCache ? new DetailCache { MaxEntries = Math.Max(1000, 2 * options.MaxNodes) } : null);
        // The cache's events are received before any listener is registered, so no event announced to us can be missed.
        var events = client.Details is null ? ["object:children-changed"] : CacheEvents;
        IDisposable? subscription = null;
        try
        {
            subscription = await client.SubscribeEventsAsync();
            foreach (var name in events) await client.RegisterEvent(name);
        }
        catch (DBusErrorReplyException e)
        {
            log.LogInformation("registry refused the event listener: {Error}; the detail cache is off", e.ErrorMessage);
            subscription?.Dispose();   // no cache to feed
            client = NewClient(details: null);
        }
        Address = address;
        log.LogInformation("accessibility bus connected at {Address}", address);
        return client;

        AtspiClient NewClient(DetailCache? details) => new(connection)
        {
            UsePeers = options.DirectConnections, PeerConnectTimeoutMs = options.ConnectTimeoutMs, Details = details,
        };
    }

    /// <summary>
    /// The object events the applications are asked to send (at-spi2-atk sends children-changed, property-change and
    /// state-changed always, the others only to registered listeners): every kind that announces a change of an
    /// element's text, value, actions, name, states or children (DetailCache).
    /// </summary>
    private static readonly string[] CacheEvents =
    [
        "object:children-changed", "object:property-change", "object:state-changed", "object:text-changed",
        "object:attributes-changed", "object:value-changed", "object:text-attributes-changed", "object:model-changed",
        "object:active-descendant-changed", "object:selection-changed",
    ];

    private static async Task<DBusConnection> OpenAsync(string address)
    {
        var c = new DBusConnection(new DBusConnectionOptions(address) { AutoConnect = false });
        try
        {
            await c.ConnectAsync();
            return c;
        }
        catch
        {
            c.Dispose();
            throw;
        }
    }

    private static Task<string> GetBusAddressAsync(DBusConnection session)
    {
        MessageBuffer msg;
        using (var w = session.GetMessageWriter())
        {
            w.WriteMethodCallHeader(destination: "org.a11y.Bus", path: "/org/a11y/bus", @interface: "org.a11y.Bus", member: "GetAddress");
            msg = w.CreateMessage();
        }
        return session.CallMethodAsync(msg, static (m, _) => m.GetBodyReader().ReadString());
    }

    /// <summary>Sets org.a11y.Status IsEnabled (and ScreenReaderEnabled) so toolkits that wait for them expose their trees.</summary>
    private async Task EnableAsync(DBusConnection session)
    {
        var names = options.EnableScreenReader ? new[] { "IsEnabled", "ScreenReaderEnabled" } : new[] { "IsEnabled" };
        foreach (var name in names)
        {
            MessageBuffer msg;
            using (var w = session.GetMessageWriter())
            {
                w.WriteMethodCallHeader(destination: "org.a11y.Bus", path: "/org/a11y/bus",
                    @interface: "org.freedesktop.DBus.Properties", member: "Set", signature: "ssv");
                w.WriteString("org.a11y.Status");
                w.WriteString(name);
                w.WriteVariantBool(true);
                msg = w.CreateMessage();
            }
            try { await session.CallMethodAsync(msg); }
            catch (DBusErrorReplyException e) { log.LogInformation("could not set org.a11y.Status.{Name}: {Error}", name, e.ErrorMessage); }
        }
    }

    public void Dispose()
    {
        _disposed = true;
        _client?.Dispose();
        _session?.Dispose();
    }
}
