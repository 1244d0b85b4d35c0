using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Sandbox.Common;
using Sandbox.Web;

namespace Sandbox.Gateway;

/// <summary><c>/api</c> and <c>/api/kernels</c>: jupyter_server's kernel handlers with Kernel Gateway's additions (env, limits, listing switch).</summary>
internal static class KernelsApi
{
    /// <summary>The jupyter_server REST API level these endpoints follow (what <c>GET /api</c> reports).</summary>
    public const string ApiVersion = "1.23.3";

    public static IEndpointRouteBuilder MapKernelsApi(this IEndpointRouteBuilder app, GatewayState gateway)
    {
        var kernels = gateway.Kernels;
        var options = gateway.Options;

        app.MapGet("/api", () => GatewayHttp.Json(new ApiVersionModel(ApiVersion), GatewayJson.Default.ApiVersionModel));

        app.MapGet("/api/kernels", () =>
        {
            if (!options.ListKernels) throw SandboxException.Forbidden("Forbidden");
            return GatewayHttp.Json(kernels.Kernels.Select(k => k.Model()).ToArray(), GatewayJson.Default.KernelModelArray);
        });

        app.MapPost("/api/kernels", async (HttpContext ctx, CancellationToken _) =>
        {
            var body = await GatewayHttp.ReadBodyAsync(ctx.Request, GatewayJson.Default.KernelStartRequest);
            var kernel = await StartAsync(gateway, body?.Name, GatewayHttp.StringEnv(body?.Env), body?.Path);
            ctx.Response.Headers.Location = $"/api/kernels/{kernel.Id}";
            return GatewayHttp.Json(kernel.Model(), GatewayJson.Default.KernelModel, 201);
        });

        app.MapGet("/api/kernels/{id}", (string id) =>
            GatewayHttp.Json(Find(kernels, id).Model(), GatewayJson.Default.KernelModel));

        app.MapDelete("/api/kernels/{id}", async (string id) =>
        {
            Find(kernels, id);
            if (!await kernels.ShutdownKernelAsync(id)) throw NotFound(id);
            return Results.NoContent();
        });

        app.MapPost("/api/kernels/{id}/interrupt", async (string id) =>
        {
            await Find(kernels, id).InterruptAsync();
            return Results.NoContent();
        });

        app.MapPost("/api/kernels/{id}/restart", async (string id) =>
        {
            var kernel = Find(kernels, id);
            try
            {
                await kernel.RestartAsync();
            }
            catch (Exception e) when (e is KernelStartException or InvalidOperationException or SpawnException)
            {
                return ErrorResults.Error(500, "Internal Server Error", "Exception restarting kernel: " + e.Message);
            }
            return GatewayHttp.Json(kernel.Model(), GatewayJson.Default.KernelModel);
        });

        app.MapGet("/api/kernels/{id}/channels", (HttpContext ctx, string id) => KernelChannels.HandleAsync(ctx, gateway, id));
        return app;
    }

    /// <summary>Starts (or takes from the pool) a kernel, mapping failures onto Kernel Gateway's answers.</summary>
    public static async Task<Kernel> StartAsync(GatewayState gateway, string? name, Dictionary<string, string>? env, string? path)
    {
        try
        {
            return await gateway.Kernels.StartKernelAsync(name, env, CwdFor(gateway.Options, path));
        }
        catch (ResourceLimitException)
        {
            throw SandboxException.Forbidden("Resource Limit");
        }
        catch (NoSuchKernelSpecException e)
        {
            throw SandboxException.NotFound(e.Message);
        }
    }

    /// <summary>jupyter_server's cwd_for_path: the directory of <paramref name="path"/> under the root, or its nearest existing parent.</summary>
    private static string? CwdFor(GatewayOptions options, string? path)
    {
        if (string.IsNullOrEmpty(path)) return null;
        var root = Path.GetFullPath(options.KernelCwd ?? Directory.GetCurrentDirectory());
        var full = Path.GetFullPath(Path.Combine(root, path.TrimStart('/')));
        // Whole path segments: "/x/root2" is not under "/x/root".
        if (full != root && !full.StartsWith(Path.TrimEndingDirectorySeparator(root) + "/", StringComparison.Ordinal)) return null;
        while (!Directory.Exists(full) && full.Length > root.Length) full = Path.GetDirectoryName(full)!;
        return full == root ? null : full;
    }

    public static Kernel Find(KernelManager kernels, string id) => kernels.Get(id) ?? throw NotFound(id);

    private static SandboxException NotFound(string id) => SandboxException.NotFound($"Kernel does not exist: {id}");
}
