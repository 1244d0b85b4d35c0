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
/// turns it off.
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
