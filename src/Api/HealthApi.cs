using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Sandbox.Web;

namespace Sandbox.Api;

internal sealed record HealthReport(
    string Status,
    string Version,
    double UptimeSeconds,
    DisplayHealth Display,
    Sandbox.Gateway.GatewayHealth? Gateway = null,
    Sandbox.Recording.RecordingHealth? Recording = null,
    Sandbox.Fleet.ContainerHealth? Container = null);

internal sealed record DisplayHealth(
    string? Name,
    string State,
    int[]? ScreenSize,
    bool SharedMemory,
    string? Error);

internal static class HealthApi
{
    public static IEndpointRouteBuilder MapHealthApi(this IEndpointRouteBuilder app, HealthSources sources)
    {
        app.MapGet("/health", () =>
        {
            var report = sources.Build();
            return Results.Json(report, ApiJson.Default.HealthReport);
        }).WithMetadata(NoTokenRequired.Instance);
        return app;
    }
}
