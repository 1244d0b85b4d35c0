using Sandbox.Common;

namespace Sandbox.Desktop;

/// <summary>Limits of /windows, from <c>SANDBOX_DESKTOP_*</c> (docs/desktop.md).</summary>
internal sealed class DesktopOptions
{
    /// <summary>How long opening or using the desktop's X connection may wait, ms.</summary>
    public int DisplayTimeoutMs { get; init; } = 2000;

    public static DesktopOptions FromEnvironment(EnvReader r) => new()
    {
        DisplayTimeoutMs = r.Int("SANDBOX_DISPLAY_TIMEOUT_MS", 2000, 10, 600_000),
    };
}
