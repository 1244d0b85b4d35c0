using System.Diagnostics;
using Sandbox.Display;
using Sandbox.Gateway;

namespace Sandbox.Api;

/// <summary>Gathers the state of each area into one health report; never waits long on any of them.</summary>
internal sealed class HealthSources(XDisplayConnection display, GatewayService? gateway = null, Sandbox.Recording.Recorder? recorder = null)
{
    private const int ProbeTimeoutMs = 250;
    private static readonly string Version =
        typeof(HealthSources).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";
    private readonly long _started = Stopwatch.GetTimestamp();

    /// <summary>The container's CPU and memory limits (the fleet area), read per report: limits can be resized live.</summary>
    public Func<Sandbox.Fleet.ContainerHealth>? Container { get; init; }

    public HealthReport Build()
    {
        Sandbox.Common.StartupTrace.Request("health-build");
        var displayHealth = ProbeDisplay();
        Sandbox.Common.StartupTrace.Request("health-probed");
        var status = displayHealth.State == "connected" ? "ok" : "degraded";
        return new HealthReport(status, Version, Math.Round(Stopwatch.GetElapsedTime(_started).TotalSeconds, 3), displayHealth, gateway?.Health(),
            recorder?.Health(), Container?.Invoke());
    }

    private DisplayHealth ProbeDisplay()
    {
        int[]? size = null;
        try
        {
            // One round trip: proves the server is still there (or reconnects) and reads the current size.
            var (w, h) = display.Run(static s => s.RefreshScreenSize(), ProbeTimeoutMs);
            size = [w, h];
        }
        catch (DisplayUnavailableException)
        {
            if (display.LastScreenSize is { } last && display.State == DisplayState.Connected) size = [last.Width, last.Height];
        }
        var state = display.State switch
        {
            DisplayState.Connected => "connected",
            DisplayState.NotConfigured => "not_configured",
            DisplayState.Lost => "lost",
            DisplayState.Unavailable => "unavailable",
            _ => "disconnected",
        };
        return new DisplayHealth(display.DisplayName, state, size, display.LastHadSharedMemory, display.LastError);
    }
}
