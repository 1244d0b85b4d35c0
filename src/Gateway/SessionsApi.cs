using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Sandbox.Common;
using Sandbox.Web;

namespace Sandbox.Gateway;

/// <summary><c>/api/sessions</c>, as jupyter_server's session handlers over an in-memory store.</summary>
internal static class SessionsApi
{
    public static IEndpointRouteBuilder MapSessionsApi(this IEndpointRouteBuilder app, GatewayState gateway)
    {
        var sessions = gateway.Sessions;
        var kernels = gateway.Kernels;

        app.MapGet("/api/sessions", () =>
        {
            if (!gateway.Options.ListKernels) throw SandboxException.Forbidden("Forbidden");
            return GatewayHttp.Json(sessions.List(), GatewayJson.Default.SessionModelArray);
        });

        app.MapPost("/api/sessions", async (HttpContext ctx, CancellationToken _) =>
        {
            var body = await GatewayHttp.ReadBodyAsync(ctx.Request, GatewayJson.Default.SessionRequest)
                ?? throw SandboxException.BadRequest("No JSON data provided");
            var path = body.Path ?? body.Notebook?.Path ?? throw SandboxException.BadRequest("Missing field in JSON data: path");
            var type = body.Type ?? (body.Notebook?.Path is not null ? "notebook" : null)
                ?? throw SandboxException.BadRequest("Missing field in JSON data: type");
            var model = sessions.ByPath(path);
            if (model is null)
            {
                string kernelId;
                if (body.Kernel?.Id is { } id) kernelId = KernelsApi.Find(kernels, id).Id;
                else kernelId = (await KernelsApi.StartAsync(gateway, body.Kernel?.Name, null, null)).Id;
                model = sessions.Add(path, body.Name ?? body.Notebook?.Name, type, kernelId);
            }
            ctx.Response.Headers.Location = $"/api/sessions/{model.Id}";
            return GatewayHttp.Json(model, GatewayJson.Default.SessionModel, 201);
        });

        app.MapGet("/api/sessions/{id}", (string id) =>
            GatewayHttp.Json(sessions.Get(id) ?? throw NotFound(id), GatewayJson.Default.SessionModel));

        app.MapMethods("/api/sessions/{id}", ["PATCH"], async (HttpContext ctx, string id) =>
        {
            var body = await GatewayHttp.ReadBodyAsync(ctx.Request, GatewayJson.Default.SessionRequest)
                ?? throw SandboxException.BadRequest("No JSON data provided");
            var before = sessions.Get(id) ?? throw NotFound(id);
            string? kernelId = null;
            if (body.Kernel?.Id is { } kid)
            {
                if (kernels.Get(kid) is null) throw SandboxException.BadRequest($"No such kernel: {kid}");
                kernelId = kid;
            }
            else if (body.Kernel?.Name is { } name)
            {
                kernelId = (await KernelsApi.StartAsync(gateway, name, null, null)).Id;
            }
            var path = body.Path ?? body.Notebook?.Path;
            var type = body.Type ?? (body.Notebook?.Path is not null ? "notebook" : null);
            var model = sessions.Update(id, path, body.Name, type, kernelId) ?? throw NotFound(id);
            if (model.Kernel.Id != before.Kernel.Id) await kernels.ShutdownKernelAsync(before.Kernel.Id);
            return GatewayHttp.Json(model, GatewayJson.Default.SessionModel);
        });

        app.MapDelete("/api/sessions/{id}", async (string id) =>
        {
            var kernelId = sessions.Remove(id) ?? throw NotFound(id);
            if (!await kernels.ShutdownKernelAsync(kernelId))
                return ErrorResults.Error(410, "Gone", "Kernel deleted before session");
            return Results.NoContent();
        });
        return app;
    }

    private static SandboxException NotFound(string id) => SandboxException.NotFound($"Session not found: {id}");
}
