using System.Collections.Concurrent;
using System.Threading.Channels;

namespace Sandbox.LiveView;

/// <summary>
/// What one connected viewer has yet to receive: at most one frame (the latest; an unsent older one is
/// replaced and counted as skipped) and a bounded queue of small JSON events (oldest dropped first).
/// The producer and the feed only ever <see cref="Offer"/>/<see cref="Post"/>, which never block; the
/// viewer's own send loop waits on <see cref="WaitAsync"/> and sends at whatever pace its client reads.
/// Memory per viewer is therefore one frame reference plus <see cref="MaxQueuedEvents"/> strings.
/// </summary>
internal sealed class Viewer : IDisposable
{
    public const int MaxQueuedEvents = 256;
    private readonly Channel<bool> _signal = Channel.CreateBounded<bool>(
        new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });
    private readonly ConcurrentQueue<string> _events = new();
    private readonly Action<Viewer> _onDispose;
    private StreamFrame? _frame;
    private int _queued;
    private long _skipped, _sent, _droppedEvents;
    private int _disposed;

    public Viewer(long id, string kind, Action<Viewer> onDispose)
    {
        Id = id;
        Kind = kind;
        _onDispose = onDispose;
    }

    public long Id { get; }
    /// <summary><c>websocket</c> or <c>mjpeg</c>.</summary>
    public string Kind { get; }
    /// <summary>Frames replaced before this viewer could take them.</summary>
    public long Skipped => Interlocked.Read(ref _skipped);
    public long Sent => Interlocked.Read(ref _sent);
    public long DroppedEvents => Interlocked.Read(ref _droppedEvents);

    public void Offer(StreamFrame frame)
    {
        if (Interlocked.Exchange(ref _frame, frame) is not null) Interlocked.Increment(ref _skipped);
        _signal.Writer.TryWrite(true);
    }

    public void Post(string json)
    {
        _events.Enqueue(json);
        if (Interlocked.Increment(ref _queued) > MaxQueuedEvents && _events.TryDequeue(out _))
        {
            Interlocked.Decrement(ref _queued);
            Interlocked.Increment(ref _droppedEvents);
        }
        _signal.Writer.TryWrite(true);
    }

    /// <summary>Waits until there is something to send; false once the viewer is closed.</summary>
    public async ValueTask<bool> WaitAsync(CancellationToken ct)
    {
        if (!await _signal.Reader.WaitToReadAsync(ct)) return false;
        _signal.Reader.TryRead(out _);
        return true;
    }

    public bool TryTakeEvent(out string json)
    {
        if (!_events.TryDequeue(out json!)) return false;
        Interlocked.Decrement(ref _queued);
        return true;
    }

    public StreamFrame? TakeFrame()
    {
        var f = Interlocked.Exchange(ref _frame, null);
        if (f is not null) Interlocked.Increment(ref _sent);
        return f;
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _signal.Writer.TryComplete();
        _onDispose(this);
    }
}
