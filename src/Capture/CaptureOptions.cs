using Sandbox.Common;
using Sandbox.Imaging;

namespace Sandbox.Capture;

/// <summary>Screenshot encoding and reuse (<c>SANDBOX_PNG_THREADS</c>, <c>SANDBOX_PNG_FILTER</c>, <c>SANDBOX_SCREENSHOT_REUSE_MAX_BYTES</c>, <c>SANDBOX_TURBOJPEG</c>, <c>SANDBOX_MALLOC_MMAP_THRESHOLD</c>, <c>SANDBOX_RELEASE_STARTUP_PAGES</c>, <c>SANDBOX_IDLE_TRIM_MS</c>).</summary>
internal sealed record CaptureOptions
{
    /// <summary>PNG bands encoded in parallel; 0 = one per core, 1 = the single-threaded streaming encoder.</summary>
    public int PngThreads { get; init; }

    /// <summary>
    /// PNG row filter: <c>auto</c> (per row, the best of None/Sub/Up/Average by a sampled estimate), one fixed filter
    /// (<c>none</c>, <c>sub</c>, <c>up</c>, <c>average</c>, <c>paeth</c>), or <c>adaptive</c> (all five estimated in full).
    /// </summary>
    public PngFilterMode PngFilter { get; init; } = PngFilterMode.Auto;

    /// <summary>
    /// Largest encoded screenshot kept for reuse while the screen does not change, bytes (0 = never reuse).
    /// The kept buffer is this big at most; larger encodes are answered and dropped.
    /// </summary>
    public int ReuseMaxBytes { get; init; } = 8 << 20;

    /// <summary>JPEG through libjpeg-turbo when it is installed; false always uses StbImageWriteSharp.</summary>
    public bool UseTurboJpeg { get; init; } = true;

    /// <summary>
    /// glibc's mmap threshold, fixed at start-up, bytes (0 = glibc's own sliding threshold). Blocks at least
    /// this big (zlib's deflate state per PNG band) get their own mapping and are returned when freed.
    /// </summary>
    public int MallocMmapThreshold { get; init; } = 128 * 1024;

    /// <summary>
    /// Once start-up work is done, drop the resident pages of the binary's and libraries' clean read-only
    /// mappings (start-up code); what runs later maps back what it touches (src/Hosting/ResidentPages.cs).
    /// </summary>
    public bool ReleaseStartupPages { get; init; } = true;

    /// <summary>
    /// Period of the idle trim, milliseconds (0 = off): when pages came back since the last release and the process
    /// was idle for a whole period, the same pages are dropped again (src/Hosting/ResidentPages.cs). Long by default:
    /// the first screenshot after a trim maps its code back (measured 0.1–0.4 ms of CPU, more in wall time).
    /// </summary>
    public int IdleTrimMs { get; init; } = 300_000;

    public static CaptureOptions FromEnvironment(EnvReader r) => new()
    {
        PngThreads = r.Int("SANDBOX_PNG_THREADS", 0, 0, 64),
        PngFilter = r.Choice("SANDBOX_PNG_FILTER", PngFilterMode.Auto),
        ReuseMaxBytes = r.Int("SANDBOX_SCREENSHOT_REUSE_MAX_BYTES", 8 << 20, 0, 1 << 30),
        UseTurboJpeg = r.Bool("SANDBOX_TURBOJPEG", true),
        MallocMmapThreshold = r.Int("SANDBOX_MALLOC_MMAP_THRESHOLD", 128 * 1024, 0, 32 << 20),
        ReleaseStartupPages = r.Bool("SANDBOX_RELEASE_STARTUP_PAGES", true),
        IdleTrimMs = r.Int("SANDBOX_IDLE_TRIM_MS", 300_000, 0, 86_400_000),
    };
}
