using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Sandbox.Common;

namespace Sandbox.Gateway;

/// <summary><c>/api/kernelspecs</c> and the spec resources (logos, kernel.js) under <c>/kernelspecs</c>.</summary>
internal static class KernelSpecsApi
{
    public static IEndpointRouteBuilder MapKernelSpecsApi(this IEndpointRouteBuilder app, GatewayState gateway)
    {
        var specs = gateway.Kernels.Specs;

        app.MapGet("/api/kernelspecs", () =>
        {
            var all = specs.All().ToDictionary(kv => kv.Key, kv => KernelSpecCatalog.Model(kv.Value), StringComparer.Ordinal);
            return GatewayHttp.Json(new KernelSpecsModel(gateway.Kernels.DefaultKernelName, all), GatewayJson.Default.KernelSpecsModel);
        });

        app.MapGet("/api/kernelspecs/{name}", (string name) =>
        {
            var spec = specs.Find(name) ?? throw SandboxException.NotFound($"Kernel spec {name} not found");
            return GatewayHttp.Json(KernelSpecCatalog.Model(spec), GatewayJson.Default.KernelSpecModel);
        });

        app.MapGet("/kernelspecs/{name}/{file}", (string name, string file) =>
        {
            var spec = specs.Find(name) ?? throw SandboxException.NotFound($"Kernel spec {name} not found");
            if (file.Contains('/') || file.StartsWith('.') || file == "kernel.json")
                throw SandboxException.NotFound($"No such resource {file}");
            var path = Path.Combine(spec.ResourceDir, file);
            if (!File.Exists(path)) throw SandboxException.NotFound($"No such resource {file}");
            var type = Path.GetExtension(file) switch
            {
                ".png" => "image/png",
                ".svg" => "image/svg+xml",
                ".js" => "application/javascript",
                ".css" => "text/css",
                _ => "application/octet-stream",
            };
            return Results.File(path, type);
        });
        return app;
    }
}
