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
    /// <summary>
    /// Cold start (docs/performance.md): <c>GET /health</c> answered ahead of routing, so the first answer does
    /// not wait for the routing table (every area's endpoints, built at the first routed request). The same
    /// answer as the endpoint's; a request the guard refuses, any other path or method (<c>/health/</c>, HEAD),
    /// or a report that fails goes on through the pipeline (guard, token, JSON errors, the endpoint below).
    /// </summary>
    public static IApplicationBuilder UseHealthAheadOfRouting(this IApplicationBuilder app, HealthSources sources, GuardPolicy guard) =>
        app.Use((http, next) =>
        {
            if (!HttpMethods.IsGet(http.Request.Method) || !http.Request.Path.Equals(Path, StringComparison.OrdinalIgnoreCase)
                || RequestGuard.Refusal(http, guard) is not null)
                return next(http);
            HealthReport report;
            try { report = sources.Build(); }
            catch (Exception) { return next(http); } // answered (as an error) by the pipeline
            return Results.Json(report, ApiJson.Default.HealthReport).ExecuteAsync(http);
        });

    private const string Path = "/health";

    public static IEndpointRouteBuilder MapHealthApi(this IEndpointRouteBuilder app, HealthSources sources)
    {
        app.MapGet(Path, () =>
        {
            var report = sources.Build();
            return Results.Json(report, ApiJson.Default.HealthReport);
        }).WithMetadata(NoTokenRequired.Instance);
        return app;
    }
}
