using System.Collections;
using Sandbox.Common;

namespace Sandbox.Hosting;

/// <summary>
/// Settings of the REST appliance, read once from the environment at start and validated there, so a
/// bad value stops the process with a message instead of surfacing later as a failed request.
/// Names and defaults are the old suite's (docs/configuration.md).
/// </summary>
internal sealed class SandboxOptions : ApplianceOptions
{
    /// <summary>The live view page and stream (SANDBOX_VIEW_*).</summary>
    public Sandbox.LiveView.LiveViewOptions LiveView { get; init; } = new();
    /// <summary>Input and screen recording (/record): <c>SANDBOX_RECORD_*</c>.</summary>
    public Sandbox.Recording.RecordingOptions Recording { get; init; } = new();
    /// <summary>The computer-use actions' limits and timings (<c>SANDBOX_ACTION_*</c>).</summary>
    public Sandbox.Input.InputOptions Input { get; init; } = new();
    /// <summary>The MCP endpoint /mcp (<c>SANDBOX_MCP_*</c>).</summary>
    public Sandbox.Mcp.McpOptions Mcp { get; init; } = new();
    /// <summary>Probes, /init, PID 1 duty and container sizing (<c>SANDBOX_FLEET_*</c>).</summary>
    public Sandbox.Fleet.FleetOptions Fleet { get; init; } = new();
    /// <summary>Commands and background processes (/process): <c>SANDBOX_PROCESS_*</c>.</summary>
    public Sandbox.Processes.ProcessesOptions Processes { get; init; } = new();
    /// <summary>The file API (/files): <c>SANDBOX_FILES_*</c>.</summary>
    public Sandbox.Files.FilesOptions Files { get; init; } = new();
    /// <summary>The accessibility tree (<c>SANDBOX_A11Y_*</c>, docs/accessibility.md).</summary>
    public Sandbox.Accessibility.AccessibilityOptions Accessibility { get; init; } = new();
    /// <summary>Screenshot encoding and reuse (<c>SANDBOX_PNG_*</c>, <c>SANDBOX_SCREENSHOT_REUSE_MAX_BYTES</c>, <c>SANDBOX_TURBOJPEG</c>).</summary>
    public Sandbox.Capture.CaptureOptions Capture { get; init; } = new();
    /// <summary>The process's memory: malloc's threshold, start-up page release, idle trim.</summary>
    public MemoryOptions Memory { get; init; } = new();
    public Sandbox.Clipboard.ClipboardOptions Clipboard { get; init; } = new();
    public Sandbox.Desktop.DesktopOptions Desktop { get; init; } = new();
    public Sandbox.OsWorld.OsWorldOptions OsWorld { get; init; } = new();

    /// <summary>Every default is written once, on the property; the reader falls back to it.</summary>
    private static readonly SandboxOptions Defaults = new();

    public static SandboxOptions FromEnvironment(IDictionary env)
    {
        var r = new EnvReader(env);
        var d = Defaults;
        var o = new SandboxOptions
        {
            Host = r.Text("HOST", d.Host),
            Port = r.Int("PORT", d.Port, 1, 65535),
            SharedDir = r.Text("SHARED_DIR", d.SharedDir),
            Display = r.String("DISPLAY"),
            XAuthority = r.String("XAUTHORITY"),
            Token = r.String("SANDBOX_TOKEN"),
            MaxImageEdge = r.Int("SANDBOX_MAX_IMAGE_EDGE", d.MaxImageEdge, 16, 65535),
            ScreenshotRetention = r.Int("SANDBOX_SCREENSHOT_RETENTION", d.ScreenshotRetention, 0, int.MaxValue),
            SharedMaxBytes = r.Long("SANDBOX_SHARED_MAX_BYTES", d.SharedMaxBytes, 0, long.MaxValue),
            SharedMode = r.Choice("SANDBOX_SHARED_MODE", d.SharedMode),
            DisplayTimeoutMs = r.Int("SANDBOX_DISPLAY_TIMEOUT_MS", d.DisplayTimeoutMs, 10, 600_000),
            PngCompressionLevel = r.Int("SANDBOX_PNG_LEVEL", d.PngCompressionLevel, 0, 9),
            MaxRequestBodyBytes = r.Int("SANDBOX_MAX_BODY_BYTES", (int)d.MaxRequestBodyBytes, 1024, int.MaxValue),
            UseSharedMemory = r.Bool("SANDBOX_SHM", d.UseSharedMemory),
            AllowHosts = Sandbox.Web.GuardPolicy.ParseList(r.String("SANDBOX_ALLOW_HOSTS")),
            AllowOrigins = Sandbox.Web.GuardPolicy.ParseList(r.String("SANDBOX_ALLOW_ORIGINS")),
            LiveView = Sandbox.LiveView.LiveViewOptions.FromEnvironment(r),
            Recording = Sandbox.Recording.RecordingOptions.FromEnvironment(r),
            Input = Sandbox.Input.InputOptions.Read(r),
            Mcp = Sandbox.Mcp.McpOptions.FromEnvironment(r),
            Fleet = Sandbox.Fleet.FleetOptions.FromEnvironment(r),
            Processes = Sandbox.Processes.ProcessesOptions.FromEnvironment(r),
            Files = Sandbox.Files.FilesOptions.FromEnvironment(r),
            Accessibility = Sandbox.Accessibility.AccessibilityOptions.FromEnvironment(r),
            Capture = Sandbox.Capture.CaptureOptions.FromEnvironment(r),
            Memory = MemoryOptions.FromEnvironment(r),
            Clipboard = Sandbox.Clipboard.ClipboardOptions.FromEnvironment(r),
            Desktop = Sandbox.Desktop.DesktopOptions.FromEnvironment(r),
            OsWorld = Sandbox.OsWorld.OsWorldOptions.FromEnvironment(r),
        };
        r.ThrowIfInvalid();
        return o;
    }
}
