using Sandbox.Common;

namespace Sandbox.Hosting;

/// <summary>
/// The process's memory (docs/performance.md, "Memory"): <c>SANDBOX_MALLOC_MMAP_THRESHOLD</c>,
/// <c>SANDBOX_RELEASE_STARTUP_PAGES</c>, <c>SANDBOX_IDLE_TRIM_MS</c>. Process-wide, applied by the host
/// (<see cref="MallocTuning"/>, <see cref="ResidentPages"/>), whatever area made the memory resident.
/// </summary>
internal sealed record MemoryOptions
{
    /// <summary>
    /// glibc's mmap threshold, fixed at start-up, bytes (0 = glibc's own sliding threshold). Blocks at least
    /// this big (zlib's deflate state per PNG band) get their own mapping and are returned when freed.
    /// </summary>
    public int MallocMmapThreshold { get; init; } = 128 * 1024;

    /// <summary>
    /// Once start-up work is done, drop the resident pages of the binary's and libraries' clean read-only
    /// mappings (start-up code); what runs later maps back what it touches (<see cref="ResidentPages"/>).
    /// </summary>
    public bool ReleaseStartupPages { get; init; } = true;

    /// <summary>
    /// Period of the idle trim, milliseconds (0 = off): when pages came back since the last release and the process
    /// was idle for a whole period, the same pages are dropped again (<see cref="ResidentPages"/>). Long by default:
    /// the first screenshot after a trim maps its code back (measured 0.1–0.4 ms of CPU, more in wall time).
    /// </summary>
    public int IdleTrimMs { get; init; } = 300_000;

    public static MemoryOptions FromEnvironment(EnvReader r) => new()
    {
        MallocMmapThreshold = r.Int("SANDBOX_MALLOC_MMAP_THRESHOLD", 128 * 1024, 0, 32 << 20),
        ReleaseStartupPages = r.Bool("SANDBOX_RELEASE_STARTUP_PAGES", true),
        IdleTrimMs = r.Int("SANDBOX_IDLE_TRIM_MS", 300_000, 0, 86_400_000),
    };
}
