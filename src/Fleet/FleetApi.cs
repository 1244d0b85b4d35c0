using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Sandbox.Web;

namespace Sandbox.Fleet;

/// <summary>
/// Orchestrator endpoints: <c>GET /healthz</c> (liveness: the process answers, nothing else is asked),
/// <c>GET /readyz</c> and its alias <c>GET /v1/health</c> (readiness: 200 or 503 with the reasons), and
/// <c>POST /init</c> (per-claim settings). The probes are open like <c>/health</c>; <c>/init</c> is open until
/// a token is set, then needs it like every other endpoint.
/// </summary>
internal static class FleetApi
{
    public static readonly string[] OpenPaths = ["/healthz", "/readyz", "/v1/health"];

    public static IEndpointRouteBuilder MapFleetApi(this IEndpointRouteBuilder app, Readiness readiness, InitService init)
    {
        var alive = new LivenessReport("alive");
        app.MapGet("/healthz", () => Results.Json(alive, FleetJson.Default.LivenessReport)).WithMetadata(NoTokenRequired.Instance);
        IResult Ready()
        {
            var report = readiness.Evaluate();
            return Results.Json(report, FleetJson.Default.ReadinessReport,
                statusCode: report.Ready ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
        }
        app.MapGet("/readyz", Ready).WithMetadata(NoTokenRequired.Instance);
        app.MapGet("/v1/health", Ready).WithMetadata(NoTokenRequired.Instance);
        app.MapPost("/init", async Task<IResult> (HttpContext http) =>
        {
            var request = await JsonBody.ReadAsync(http.Request, FleetJson.Default.InitRequest, allowEmpty: true, http.RequestAborted)
                ?? new InitRequest();
            return Results.Json(init.Apply(request), FleetJson.Default.InitResponse);
        });
        return app;
    }
}
