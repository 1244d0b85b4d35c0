using Sandbox.Common;

namespace Sandbox.LiveView;

/// <summary>Settings of the live view page and its stream (README "Live view").</summary>
internal sealed class LiveViewOptions
{
    /// <summary>Serve the page and the stream at all (<c>SANDBOX_VIEW</c>).</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>Most frames per second sent to a viewer; the screen is checked for changes at this rate.</summary>
    public int Fps { get; init; } = 10;

    /// <summary>JPEG quality of stream frames, 1–100.</summary>
    public int Quality { get; init; } = 70;

    /// <summary>Frames are scaled down (aspect kept) to fit this box; the default keeps 1920×1080 as is.</summary>
    public int MaxWidth { get; init; } = 1920;
    public int MaxHeight { get; init; } = 1080;

    /// <summary>Viewers streaming at once; more are refused with 503 so the appliance's work stays bounded.</summary>
    public int MaxViewers { get; init; } = 16;

    /// <summary>Whether viewers may click and type (<c>SANDBOX_VIEW_CONTROL</c>). Off: view only.</summary>
    public bool Control { get; init; }

    public static LiveViewOptions FromEnvironment(EnvReader r) => new()
    {
        Enabled = r.Bool("SANDBOX_VIEW", true),
        Fps = r.Int("SANDBOX_VIEW_FPS", 10, 1, 60),
        Quality = r.Int("SANDBOX_VIEW_QUALITY", 70, 1, 100),
        MaxWidth = r.Int("SANDBOX_VIEW_MAX_WIDTH", 1920, 16, 16384),
        MaxHeight = r.Int("SANDBOX_VIEW_MAX_HEIGHT", 1080, 16, 16384),
        MaxViewers = r.Int("SANDBOX_VIEW_MAX_VIEWERS", 16, 1, 1000),
        Control = r.Bool("SANDBOX_VIEW_CONTROL", false),
    };
}
