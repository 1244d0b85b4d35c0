using System.Collections;
using Sandbox.Common;

namespace Sandbox.Hosting;

/// <summary>
/// Settings of the REST appliance, read once from the environment at start and validated there, so a
/// bad value stops the process with a message instead of surfacing later as a failed request.
/// Names and defaults are the old suite's (see README "Configuration").
/// </summary>
internal sealed class SandboxOptions
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

    /// <summary>The live view page and stream (SANDBOX_VIEW_*).</summary>
    public Sandbox.LiveView.LiveViewOptions LiveView { get; init; } = new();
    /// <summary>Input and screen recording (/record): <c>SANDBOX_RECORD_*</c>.</summary>
    public Sandbox.Recording.RecordingOptions Recording { get; init; } = new();
    /// <summary>The computer-use actions' limits and timings (<c>SANDBOX_ACTION_*</c>).</summary>
    public Sandbox.Input.InputOptions Input { get; init; } = new();
    public Sandbox.Clipboard.ClipboardOptions Clipboard { get; init; } = new();
    public Sandbox.Desktop.DesktopOptions Desktop { get; init; } = new();

    public string ScreenshotDir => Path.Combine(SharedDir, "screenshots");
    public string RecordingDir => Path.Combine(SharedDir, "recordings");

    public static SandboxOptions FromEnvironment(IDictionary env)
    {
        var r = new EnvReader(env);
        var o = new SandboxOptions
        {
            Host = r.String("HOST") ?? "0.0.0.0",
            Port = r.Int("PORT", 8765, 1, 65535),
            SharedDir = r.String("SHARED_DIR") ?? "/tmp/sandbox-server",
            Display = r.String("DISPLAY"),
            XAuthority = r.String("XAUTHORITY"),
            Token = r.String("SANDBOX_TOKEN"),
            MaxImageEdge = r.Int("SANDBOX_MAX_IMAGE_EDGE", 16384, 16, 65535),
            ScreenshotRetention = r.Int("SANDBOX_SCREENSHOT_RETENTION", 1000, 0, int.MaxValue),
            DisplayTimeoutMs = r.Int("SANDBOX_DISPLAY_TIMEOUT_MS", 2000, 10, 600_000),
            PngCompressionLevel = r.Int("SANDBOX_PNG_LEVEL", 1, 0, 9),
            MaxRequestBodyBytes = r.Int("SANDBOX_MAX_BODY_BYTES", 1 << 20, 1024, int.MaxValue),
            UseSharedMemory = r.Bool("SANDBOX_SHM", true),
            AllowHosts = Sandbox.Web.GuardPolicy.ParseList(r.String("SANDBOX_ALLOW_HOSTS")),
            AllowOrigins = Sandbox.Web.GuardPolicy.ParseList(r.String("SANDBOX_ALLOW_ORIGINS")),
            LiveView = Sandbox.LiveView.LiveViewOptions.FromEnvironment(r),
            Recording = Sandbox.Recording.RecordingOptions.FromEnvironment(r),
            Input = Sandbox.Input.InputOptions.Read(r),
            Clipboard = Sandbox.Clipboard.ClipboardOptions.FromEnvironment(r),
            Desktop = Sandbox.Desktop.DesktopOptions.FromEnvironment(r),
        };
        r.ThrowIfInvalid();
        return o;
    }
}
