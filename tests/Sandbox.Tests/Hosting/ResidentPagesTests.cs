using Sandbox.Hosting;

namespace Sandbox.Tests.Hosting;

public sealed class ResidentPagesTests
{
    private const string Smaps = """
        5580a0000000-5580a0100000 r-xp 00024000 fe:00 1234                       /opt/sandbox/sandbox
        Size:               1024 kB
        Rss:                 800 kB
        Anonymous:             0 kB
        5580a0100000-5580a0200000 r--p 00124000 fe:00 1234                       /opt/sandbox/sandbox
        Rss:                 300 kB
        Anonymous:             0 kB
        5580a0200000-5580a0201000 r--p 00224000 fe:00 1234                       /opt/sandbox/sandbox
        Rss:                   4 kB
        Anonymous:             4 kB
        5580a0201000-5580a0210000 rw-p 00225000 fe:00 1234                       /opt/sandbox/sandbox
        Rss:                  60 kB
        Anonymous:            20 kB
        5580a0210000-5580a0800000 rw-p 00000000 00:00 0
        Rss:                5700 kB
        Anonymous:          5700 kB
        7f0000000000-7f0000800000 rw-s 00000000 00:01 98                         /SYSV00000000 (deleted)
        Rss:                8100 kB
        Anonymous:             0 kB
        7f0001000000-7f0001100000 r-xp 00028000 fe:00 77                         /usr/lib/x86_64-linux-gnu/libc.so.6
        Rss:                1400 kB
        Anonymous:             0 kB
        7f0001100000-7f0001101000 ---p 00128000 fe:00 77                         /usr/lib/x86_64-linux-gnu/libc.so.6
        Rss:                   0 kB
        Anonymous:             0 kB
        7f0001200000-7f0001210000 r--p 00000000 fe:00 88                         /usr/lib/x86_64-linux-gnu/libm.so.6
        Rss:                   0 kB
        Anonymous:             0 kB
        7ffc00000000-7ffc00021000 rw-p 00000000 00:00 0                          [stack]
        Rss:                  20 kB
        Anonymous:            20 kB
        7ffc00100000-7ffc00102000 r-xp 00000000 00:00 0                          [vdso]
        Rss:                   8 kB
        Anonymous:             0 kB
        """;

    [Fact]
    public void Only_clean_read_only_private_file_mappings_with_resident_pages_are_released()
    {
        var found = ResidentPages.Candidates(Smaps);
        Assert.Equal(
            [((nuint)0x5580a0000000, (nuint)0x5580a0100000, 800L), ((nuint)0x5580a0100000, (nuint)0x5580a0200000, 300L),
             ((nuint)0x7f0001000000, (nuint)0x7f0001100000, 1400L)],
            found);
    }

    [Fact]
    public void The_idle_trim_releases_only_after_pages_came_back_and_during_an_idle_tick()
    {
        var allowance = ResidentPages.IdleCpuFor(TimeSpan.FromSeconds(1)).Ticks;
        long idle = allowance - 1, busy = allowance;
        Assert.True(ResidentPages.ShouldRelease(ResidentPages.FaultsWorthRelease, idle, allowance));
        Assert.False(ResidentPages.ShouldRelease(ResidentPages.FaultsWorthRelease - 1, idle, allowance));   // the timers' own few faults
        Assert.False(ResidentPages.ShouldRelease(10_000, busy, allowance));                                  // still working
    }

    [Fact]
    public void The_idle_allowance_grows_with_the_period_so_the_timers_of_a_long_one_still_count_as_idle()
    {
        Assert.Equal(ResidentPages.MinIdleCpu, ResidentPages.IdleCpuFor(TimeSpan.FromMilliseconds(100)));
        // Measured idle: ~0.35 ms of CPU per second (timers); over the default 5 minutes that is ~105 ms.
        var fiveMinutes = ResidentPages.IdleCpuFor(TimeSpan.FromMinutes(5));
        Assert.True(fiveMinutes > TimeSpan.FromMilliseconds(0.35 * 300));
        // A screenshot every second (3-20 ms each) is not idle.
        Assert.True(fiveMinutes < TimeSpan.FromMilliseconds(3 * 300));
    }

    [Fact]
    public void Releasing_this_process_pages_keeps_it_running()
    {
        var released = ResidentPages.Release();
        Assert.True(released > 0, "some clean file pages were resident");
        // Code and read-only data are mapped back on use.
        Assert.Equal("3q2+7w==", Convert.ToBase64String([0xde, 0xad, 0xbe, 0xef]));
        Assert.Contains("Rss:", File.ReadAllText("/proc/self/smaps"));
    }
}
