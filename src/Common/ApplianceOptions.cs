namespace Sandbox.Common;

/// <summary>
/// The settings every area may read: where the appliance listens, its SHARED_DIR and display, the limits
/// that apply to all requests. Areas get this (and their own options) by constructor; the composition
/// root's <c>SandboxOptions</c> extends it with each area's options.
/// </summary>
internal class ApplianceOptions
{
    public string Host { get; init; } = "0.0.0.0";
    public int Port { get; init; } = 8765;
    public string SharedDir { get; init; } = "/tmp/sandbox-server";
    public string? Display { get; init; }
    public string? XAuthority { get; init; }

    /// <summary>Optional bearer token for the REST port (<c>SANDBOX_TOKEN</c>); null means open.</summary>
    public string? Token { get; init; }

    /// <summary>Largest screenshot edge accepted in <c>max_width</c>/<c>max_height</c>/region, pixels.</summary>
    public int MaxImageEdge { get; init; } = 16384;

    /// <summary>Screenshots kept in <c>SHARED_DIR/screenshots</c>; older ones are deleted (0 = keep all).</summary>
    public int ScreenshotRetention { get; init; } = 1000;

    /// <summary>Byte budget for SHARED_DIR: past it the oldest screenshots are deleted (<c>SANDBOX_SHARED_MAX_BYTES</c>; 0 = none).</summary>
    public long SharedMaxBytes { get; init; } = 1L << 30;

    /// <summary>Who may read what is written under SHARED_DIR (<c>SANDBOX_SHARED_MODE</c>: private, group, world).</summary>
    public ShareMode SharedMode { get; init; } = ShareMode.Private;

    /// <summary>How long a request waits for the X connection before answering 503, milliseconds.</summary>
    public int DisplayTimeoutMs { get; init; } = 2000;

    /// <summary>Default PNG deflate level (0–9). 1 is zlib-ng's fast path and the measured sweet spot.</summary>
    public int PngCompressionLevel { get; init; } = 1;

    /// <summary>Capture through MIT-SHM when the server offers it (<c>SANDBOX_SHM</c>); false forces XGetImage.</summary>
    public bool UseSharedMemory { get; init; } = true;

    /// <summary>Extra Host names admitted besides IP literals, localhost and this machine's name (<c>SANDBOX_ALLOW_HOSTS</c>).</summary>
    public IReadOnlyList<string> AllowHosts { get; init; } = [];

    /// <summary>Browser origins admitted besides the port's own (<c>SANDBOX_ALLOW_ORIGINS</c>).</summary>
    public IReadOnlyList<string> AllowOrigins { get; init; } = [];

    /// <summary>Largest request body accepted on the REST port, bytes.</summary>
    public long MaxRequestBodyBytes { get; init; } = 1 << 20;

    public string ScreenshotDir => Path.Combine(SharedDir, "screenshots");
    public string RecordingDir => Path.Combine(SharedDir, "recordings");
}
