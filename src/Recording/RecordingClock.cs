using System.Diagnostics;

namespace Sandbox.Recording;

/// <summary>
/// Times of one recording. Every event gets a monotonic time (seconds since the start) and a wall-clock
/// timestamp derived from it (start wall clock + monotonic offset), so timestamps never run backwards
/// even when NTP steps the clock during a recording.
/// <para>
/// Event times come from the X server's own millisecond timestamps, anchored to our clock at the first
/// event: they say when the input happened, not when a busy recorder thread got round to reading it.
/// If the mapping drifts implausibly (an event "from the future", or seconds behind) it is re-anchored.
/// </para>
/// </summary>
internal sealed class RecordingClock
{
    private readonly long _startTicks;
    private bool _anchored;
    private uint _anchorServer;
    private double _anchorTime, _last;

    public RecordingClock() : this(DateTime.UtcNow, Stopwatch.GetTimestamp()) { }

    public RecordingClock(DateTime startedUtc, long startTimestamp)
    {
        StartedUtc = startedUtc;
        _startTicks = startTimestamp;
    }

    public DateTime StartedUtc { get; }

    /// <summary>Seconds since the start, now.</summary>
    public double Now => Stopwatch.GetElapsedTime(_startTicks).TotalSeconds;

    public string Stamp(double time) => InputEvent.FormatTimestamp(StartedUtc.AddTicks((long)Math.Round(time * TimeSpan.TicksPerSecond)));

    /// <summary>The recording time of an event stamped <paramref name="serverMs"/> by the X server, received at <paramref name="receivedAt"/>.</summary>
    public double FromServer(uint serverMs, double receivedAt)
    {
        if (!_anchored)
        {
            (_anchorServer, _anchorTime, _anchored) = (serverMs, receivedAt, true);
        }
        var t = _anchorTime + unchecked(serverMs - _anchorServer) / 1000.0;
        if (t > receivedAt + 0.005 || t < receivedAt - 5)
        {
            (_anchorServer, _anchorTime) = (serverMs, receivedAt);
            t = receivedAt;
        }
        // Never backwards: a re-anchor or a same-millisecond burst keeps the order of arrival.
        if (t < _last) t = _last;
        _last = t;
        return Math.Round(t, 6);
    }

    /// <summary>Drops the anchor: after a reconnect the X server (and its clock) may be a new one.</summary>
    public void Reanchor() => _anchored = false;
}
