using System.Globalization;
using Sandbox.Native;

namespace Sandbox.Hosting;

/// <summary>
/// Releases the start-up-only pages of the binary and its libraries (docs/performance.md, "Memory").
/// Start-up (runtime init, host building, DI, Kestrel's start) runs code and reads data that nothing runs
/// again, and the kernel maps every file page 64 KiB around each one touched (fault-around), so after start
/// ~18 MB of the binary is resident although a screenshot touches ~10 MB of it. Once start-up work is done,
/// <see cref="Release"/> drops the mappings of clean, read-only, private file pages
/// (<c>madvise(MADV_DONTNEED)</c>): they stay in the page cache, and what runs later maps back what it
/// touches with minor faults (no disk read, no copy). Only mappings without anonymous (copied-on-write)
/// pages are touched, so nothing the process wrote can be lost. <c>SANDBOX_RELEASE_STARTUP_PAGES=false</c>
/// turns it off. <see cref="StartIdleTrim"/> does the same again once the process has worked and then been
/// idle for a period (<c>SANDBOX_IDLE_TRIM_MS</c>, default 5 minutes: the next request pays the faults, so a
/// pause between an agent's steps must not trigger it; docs/performance.md, "Third round: memory").
/// </summary>
internal static unsafe class ResidentPages
{
    /// <summary>Drops the resident pages of clean read-only file mappings; returns the bytes that were resident.</summary>
    public static long Release()
    {
        if (!OperatingSystem.IsLinux()) return 0;
        string smaps;
        try { smaps = File.ReadAllText("/proc/self/smaps"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return 0; }
        long released = 0;
        foreach (var (start, end, rssKb) in Candidates(smaps))
            if (Libc.madvise((void*)start, end - start, Libc.MADV_DONTNEED) == 0) released += rssKb * 1024;
        return released;
    }

    private static Timer? s_idleTimer;
    private static long s_cpuAtLastTick, s_faultsAfterLastRelease;

    /// <summary>Minor page faults since the last release that make another one worth it (a screenshot after a release takes ~50–200).</summary>
    internal const long FaultsWorthRelease = 32;

    /// <summary>
    /// Share of a period's time the process may spend on the CPU and still count as idle: measured idle, its timers
    /// use ~0.35 ms per second (0.035 %); one screenshot takes 3–20 ms. At least <see cref="MinIdleCpu"/> per period.
    /// </summary>
    internal const double IdleCpuShare = 0.002;

    /// <summary>The idle allowance of a short period.</summary>
    internal static readonly TimeSpan MinIdleCpu = TimeSpan.FromMilliseconds(2);

    private static TimeSpan s_idleCpu = MinIdleCpu;

    /// <summary>CPU time per <paramref name="period"/> below which the process counts as idle.</summary>
    internal static TimeSpan IdleCpuFor(TimeSpan period) =>
        TimeSpan.FromTicks(Math.Max(MinIdleCpu.Ticks, (long)(period.Ticks * IdleCpuShare)));

    /// <summary>
    /// Every <paramref name="period"/>, <see cref="Release"/> again when pages came back since the last release
    /// (at least <see cref="FaultsWorthRelease"/> minor faults) and the process used less CPU than <see cref="IdleCpuFor"/>
    /// the period during the last one (it is idle now): the pages go 1–2 periods after the last request. The next request
    /// maps back what it touches (docs/performance.md, "Third round: memory"). One timer wake-up per period.
    /// </summary>
    public static void StartIdleTrim(TimeSpan period)
    {
        if (!OperatingSystem.IsLinux() || period <= TimeSpan.Zero) return;
        if (period < TimeSpan.FromMilliseconds(100)) period = TimeSpan.FromMilliseconds(100);
        s_idleCpu = IdleCpuFor(period);
        s_cpuAtLastTick = CpuTicks();
        s_faultsAfterLastRelease = MinorFaults();
        s_idleTimer = new Timer(static _ => IdleTick(), null, period, period);
    }

    private static void IdleTick()
    {
        var cpu = CpuTicks();
        var lastTick = cpu - s_cpuAtLastTick;
        s_cpuAtLastTick = cpu;
        if (!ShouldRelease(MinorFaults() - s_faultsAfterLastRelease, lastTick, s_idleCpu.Ticks)) return;
        Release();
        s_faultsAfterLastRelease = MinorFaults();
        s_cpuAtLastTick = CpuTicks();   // the release's own CPU is not work
    }

    /// <summary>True when pages came back since the last release and the process idled during the last tick (CPU ticks of 100 ns).</summary>
    internal static bool ShouldRelease(long faultsSinceRelease, long cpuLastTick, long idleCpuTicks) =>
        faultsSinceRelease >= FaultsWorthRelease && cpuLastTick < idleCpuTicks;

    private static long MinorFaults()
    {
        var usage = stackalloc long[32];
        return Libc.getrusage(Libc.RUSAGE_SELF, usage) == 0 ? usage[Libc.RusageMinorFaultsWord] : 0;
    }

    /// <summary>True once <see cref="StartIdleTrim"/> armed its timer (the field also keeps the timer alive).</summary>
    internal static bool IdleTrimArmed => s_idleTimer is not null;

    private static long CpuTicks() => Environment.CpuUsage.TotalTime.Ticks;

    /// <summary>The mappings <see cref="Release"/> drops, from the text of <c>/proc/PID/smaps</c>.</summary>
    internal static List<(nuint Start, nuint End, long RssKb)> Candidates(string smaps)
    {
        var found = new List<(nuint, nuint, long)>();
        nuint start = 0, end = 0;
        bool candidate = false;
        long rssKb = -1, anonKb = -1;
        foreach (var range in smaps.AsSpan().Split('\n'))
        {
            var line = smaps.AsSpan()[range];
            if (line.IsEmpty) continue;
            if (IsHeader(line))
            {
                Flush(found, candidate, start, end, rssKb, anonKb);
                candidate = ParseHeader(line, out start, out end);
                rssKb = anonKb = -1;
            }
            else if (line.StartsWith("Rss:")) rssKb = Kb(line);
            else if (line.StartsWith("Anonymous:")) anonKb = Kb(line);
        }
        Flush(found, candidate, start, end, rssKb, anonKb);
        return found;
    }

    private static void Flush(List<(nuint, nuint, long)> found, bool candidate, nuint start, nuint end, long rssKb, long anonKb)
    {
        // Anonymous must be known and zero: a private page that was written (relocations, RELRO) is not in the file.
        // Resident pages required too: a library being dlopen'ed right now is first mapped whole, read-only, then
        // its segments are mapped over it; that transient mapping has no resident pages, so it is never a candidate.
        if (candidate && rssKb > 0 && anonKb == 0 && end > start) found.Add((start, end, rssKb));
    }

    /// <summary>A mapping's first line: <c>start-end perms offset dev inode [path]</c>.</summary>
    private static bool IsHeader(ReadOnlySpan<char> line)
    {
        var dash = line.IndexOf('-');
        var space = line.IndexOf(' ');
        return dash > 0 && space > dash && !line[..dash].ContainsAnyExcept("0123456789abcdef");
    }

    /// <summary>True for a readable, not writable, private mapping of a file (not shared memory).</summary>
    private static bool ParseHeader(ReadOnlySpan<char> line, out nuint start, out nuint end)
    {
        start = end = 0;
        Span<Range> f = stackalloc Range[7];
        var n = line.Split(f, ' ', StringSplitOptions.RemoveEmptyEntries);
        if (n < 6) return false;   // no path: anonymous
        var addresses = line[f[0]];
        var perms = line[f[1]];
        var path = line[f[5]];
        var dash = addresses.IndexOf('-');
        if (!ulong.TryParse(addresses[..dash], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var s)
            || !ulong.TryParse(addresses[(dash + 1)..], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var e))
            return false;
        start = (nuint)s;
        end = (nuint)e;
        return perms.Length == 4 && perms[0] == 'r' && perms[1] == '-' && perms[3] == 'p'
               && path.Length > 1 && path[0] == '/' && line[f[4]] is not "0" && !path.StartsWith("/SYSV");
    }

    private static long Kb(ReadOnlySpan<char> line)
    {
        var value = line[(line.IndexOf(':') + 1)..].Trim();
        var space = value.IndexOf(' ');
        if (space > 0) value = value[..space];
        return long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var kb) ? kb : -1;
    }
}
