using Sandbox.Common;

namespace Sandbox.Desktop;

/// <summary>Limits of /windows, from <c>SANDBOX_DESKTOP_*</c> (docs/desktop.md).</summary>
internal sealed class DesktopOptions
{
    /// <summary>How long opening or using the desktop's X connection may wait, ms.</summary>
    public int DisplayTimeoutMs { get; init; } = 2000;
    /// <summary>POST /wait's timeout_ms when none is given, ms.</summary>
    public int DefaultWaitTimeoutMs { get; init; } = 10_000;
    /// <summary>The longest timeout_ms POST /wait accepts, ms.</summary>
    public int MaxWaitTimeoutMs { get; init; } = 300_000;
    /// <summary>How often window_exists / window_gone / process_exit look again, ms.</summary>
    public int WaitPollMs { get; init; } = 50;

    public static DesktopOptions FromEnvironment(EnvReader r) => new()
    {
        DisplayTimeoutMs = r.Int("SANDBOX_DISPLAY_TIMEOUT_MS", 2000, 10, 600_000),
        DefaultWaitTimeoutMs = r.Int("SANDBOX_WAIT_TIMEOUT_MS", 10_000, 0, 3_600_000),
        MaxWaitTimeoutMs = r.Int("SANDBOX_WAIT_MAX_TIMEOUT_MS", 300_000, 1, 3_600_000),
        WaitPollMs = r.Int("SANDBOX_WAIT_POLL_MS", 50, 1, 10_000),
    };
}
