namespace Sandbox.Common;

/// <summary>One thing that happened to the screen's input: an action run by the action API, an event the recorder saw.</summary>
/// <param name="Source"><c>action</c> (action API), <c>viewer</c> (control from the live view page), <c>recorder</c>.</param>
internal sealed record ActivityEntry(long Id, string Time, string Source, string Kind, string Text, string? Status);

/// <summary>
/// The recent activity shown in the live view's side list. Areas that act on the screen (actions,
/// recorder) are handed this feed and <see cref="Add"/> to it; listeners get each entry as it comes.
/// Bounded everywhere: the last <see cref="Capacity"/> entries are kept, and a listener is a plain
/// callback that must not block (the live view queues entries per viewer, dropping the oldest).
/// </summary>
internal sealed class ActivityFeed
{
    public const int Capacity = 100;
    private readonly object _gate = new();
    private readonly ActivityEntry[] _ring = new ActivityEntry[Capacity];
    private long _next;
    private Action<ActivityEntry>[] _listeners = [];

    public ActivityEntry Add(string source, string kind, string text, string? status = null)
    {
        ActivityEntry entry;
        Action<ActivityEntry>[] listeners;
        lock (_gate)
        {
            var id = ++_next;
            entry = new ActivityEntry(id, DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture),
                source, kind, text, status);
            _ring[id % Capacity] = entry;
            listeners = _listeners;
        }
        foreach (var l in listeners) l(entry);
        return entry;
    }

    /// <summary>Up to <paramref name="max"/> most recent entries, oldest first.</summary>
    public ActivityEntry[] Recent(int max = Capacity)
    {
        lock (_gate)
        {
            var n = (int)Math.Min(Math.Min(max, Capacity), _next);
            var result = new ActivityEntry[n];
            for (var i = 0; i < n; i++) result[i] = _ring[(_next - n + 1 + i) % Capacity];
            return result;
        }
    }

    /// <summary>Registers <paramref name="listener"/>; dispose the result to remove it.</summary>
    public IDisposable Listen(Action<ActivityEntry> listener)
    {
        lock (_gate) _listeners = [.. _listeners, listener];
        return new Registration(this, listener);
    }

    private sealed class Registration(ActivityFeed feed, Action<ActivityEntry> listener) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
            lock (feed._gate) feed._listeners = feed._listeners.Where(l => l != listener).ToArray();
        }
    }
}
