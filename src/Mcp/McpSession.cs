using System.Collections.Concurrent;
using System.Threading.Channels;

namespace Sandbox.Mcp;

/// <summary>
/// One MCP session (<c>Mcp-Session-Id</c>): the negotiated revision, the requests in flight (so
/// <c>notifications/cancelled</c> can stop them), the optional GET stream for server-initiated messages,
/// and state tools keep per session (run_python's kernel). Closed by DELETE, by idling past
/// SANDBOX_MCP_SESSION_IDLE_S, or at shutdown; closing cancels its requests and disposes its state.
/// </summary>
internal sealed class McpSession : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, CancellationTokenSource> _inFlight = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, object> _state = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _closed = new();
    private Channel<byte[]>? _stream;
    private long _lastUsedTicks = Environment.TickCount64;
    private int _disposed;

    public McpSession(string id, string protocolVersion, string? clientName)
    {
        Id = id;
        ProtocolVersion = protocolVersion;
        ClientName = clientName;
    }

    public string Id { get; }
    public string ProtocolVersion { get; }
    public string? ClientName { get; }
    public bool Initialized { get; set; }
    public CancellationToken Closed => _closed.Token;
    public long IdleMs => Environment.TickCount64 - Interlocked.Read(ref _lastUsedTicks);
    public int InFlight => _inFlight.Count;

    public void Touch() => Interlocked.Exchange(ref _lastUsedTicks, Environment.TickCount64);

    /// <summary>Per-session state of a tool, made on first use (e.g. a kernel); disposed with the session.</summary>
    public T GetOrAdd<T>(string key, Func<T> create) where T : class => (T)_state.GetOrAdd(key, _ => create());

    public bool TryGet<T>(string key, out T? value) where T : class
    {
        value = _state.TryGetValue(key, out var v) ? v as T : null;
        return value is not null;
    }

    public void Remove(string key) => _state.TryRemove(key, out _);

    /// <summary>Registers a request in flight; the returned source is cancelled by notifications/cancelled or close.</summary>
    public CancellationTokenSource Begin(string requestKey, CancellationToken aborted)
    {
        var cts = CancellationTokenSource.CreateLinkedTokenSource(aborted, _closed.Token);
        _inFlight[requestKey] = cts;
        return cts;
    }

    public void End(string requestKey, CancellationTokenSource cts)
    {
        _inFlight.TryRemove(new KeyValuePair<string, CancellationTokenSource>(requestKey, cts));
        cts.Dispose();
    }

    public bool Cancel(string requestKey)
    {
        if (!_inFlight.TryGetValue(requestKey, out var cts)) return false;
        try { cts.Cancel(); } catch (ObjectDisposedException) { return false; }
        return true;
    }

    /// <summary>Opens the GET stream (a newer one replaces an older one, which ends).</summary>
    public ChannelReader<byte[]> OpenStream()
    {
        var channel = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(256) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
        Interlocked.Exchange(ref _stream, channel)?.Writer.TryComplete();
        return channel.Reader;
    }

    public void CloseStream(ChannelReader<byte[]> reader)
    {
        var current = Volatile.Read(ref _stream);
        if (current is not null && current.Reader == reader && Interlocked.CompareExchange(ref _stream, null, current) == current)
            current.Writer.TryComplete();
    }

    /// <summary>Queues a server-initiated message on the GET stream; false when no stream is open (it is dropped).</summary>
    public bool Notify(byte[] message) => Volatile.Read(ref _stream)?.Writer.TryWrite(message) ?? false;

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        try { _closed.Cancel(); } catch (AggregateException) { }
        Interlocked.Exchange(ref _stream, null)?.Writer.TryComplete();
        foreach (var value in _state.Values)
        {
            try
            {
                if (value is IAsyncDisposable a) await a.DisposeAsync().ConfigureAwait(false);
                else if (value is IDisposable d) d.Dispose();
            }
            catch (Exception) { /* closing anyway */ }
        }
        _state.Clear();
    }
}
