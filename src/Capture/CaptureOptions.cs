using Sandbox.Common;
using Sandbox.Imaging;

namespace Sandbox.Capture;

/// <summary>Screenshot encoding and reuse (<c>SANDBOX_PNG_THREADS</c>, <c>SANDBOX_PNG_FILTER</c>, <c>SANDBOX_SCREENSHOT_REUSE_MAX_BYTES</c>, <c>SANDBOX_TURBOJPEG</c>).</summary>
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

    public static CaptureOptions FromEnvironment(EnvReader r) => new()
    {
        PngThreads = r.Int("SANDBOX_PNG_THREADS", 0, 0, 64),
        PngFilter = r.Choice("SANDBOX_PNG_FILTER", PngFilterMode.Auto),
        ReuseMaxBytes = r.Int("SANDBOX_SCREENSHOT_REUSE_MAX_BYTES", 8 << 20, 0, 1 << 30),
        UseTurboJpeg = r.Bool("SANDBOX_TURBOJPEG", true),
    };
}
