using System.Diagnostics;
using Sandbox.Recording;

namespace Sandbox.Tests.Recording;

public sealed class RecordingClockTests
{
    private static RecordingClock Clock() => new(new DateTime(2025, 1, 1, 0, 0, 0, DateTimeKind.Utc), Stopwatch.GetTimestamp());

    [Fact]
    public void Event_times_follow_the_servers_milliseconds_not_the_arrival()
    {
        var c = Clock();
        Assert.Equal(1.0, c.FromServer(5000, 1.0));
        // Both arrive late, together; their server times keep them 250 ms apart.
        Assert.Equal(1.25, c.FromServer(5250, 1.6));
        Assert.Equal(1.5, c.FromServer(5500, 1.6));
    }

    [Fact]
    public void The_server_clock_wrapping_around_32_bits_is_continuous()
    {
        var c = Clock();
        c.FromServer(uint.MaxValue - 99, 10);
        Assert.Equal(10.2, c.FromServer(100, 10.3), 6);
    }

    [Fact]
    public void Implausible_server_times_re_anchor_and_time_never_runs_backwards()
    {
        var c = Clock();
        c.FromServer(1000, 5);
        Assert.Equal(6, c.FromServer(900_000, 6));   // "from the future": taken as arrival time
        Assert.Equal(6, c.FromServer(899_000, 6));   // a second earlier on the server: clamped, not backwards
    }

    [Fact]
    public void Timestamps_are_the_start_plus_the_monotonic_offset()
    {
        Assert.Equal("2025-01-01T00:00:01.500000+00:00", Clock().Stamp(1.5));
    }
}
