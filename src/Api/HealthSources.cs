using System.Diagnostics;
using Sandbox.Gateway;
using Sandbox.Hosting;

namespace Sandbox.Api;

/// <summary>Gathers the state of each area into one health report.</summary>
internal sealed class HealthSources(SandboxOptions options, GatewayService? gateway = null)
{
    private static readonly string Version =
        typeof(HealthSources).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";
    private readonly long _started = Stopwatch.GetTimestamp();

    public HealthReport Build()
    {
        var display = new DisplayHealth(options.Display, "unknown", null, false, null);
        return new HealthReport("ok", Version, Stopwatch.GetElapsedTime(_started).TotalSeconds, display, gateway?.Health());
    }
}
