using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Sandbox.Api;
using Sandbox.Gateway;

namespace Sandbox.Hosting;

internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        SandboxOptions options;
        GatewayOptions gatewayOptions;
        var env = Environment.GetEnvironmentVariables();
        try
        {
            var errors = new List<string>();
            options = Collect(errors, () => SandboxOptions.FromEnvironment(env))!;
            gatewayOptions = Collect(errors, () => GatewayOptions.FromEnvironment(env))!;
            if (errors.Count > 0) throw new OptionsException(errors);
        }
        catch (OptionsException e)
        {
            foreach (var error in e.Errors) Console.Error.WriteLine($"sandbox: {error}");
            return 2;
        }

        // The gateway binds its port alongside the REST app; kernels are prespawned in the background.
        await using var gateway = new GatewayService(gatewayOptions, env);
        AppDomain.CurrentDomain.UnhandledException += (_, _) => gateway.KillEverything();
        var app = BuildApi(args, options, gateway);
        var gatewayStart = gateway.StartAsync();
        await app.StartAsync();
        await gatewayStart;
        await app.WaitForShutdownAsync();
        return 0;
    }

    private static T? Collect<T>(List<string> errors, Func<T> read) where T : class
    {
        try { return read(); }
        catch (OptionsException e) { errors.AddRange(e.Errors); return null; }
    }

    /// <summary>Builds the REST appliance on HOST:PORT.</summary>
    internal static WebApplication BuildApi(string[] args, SandboxOptions options, GatewayService? gateway = null)
    {
        var builder = WebApplication.CreateSlimBuilder(args);
        builder.WebHost.UseKestrelCore().ConfigureKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes;
            k.AddServerHeader = false;
        });
        builder.WebHost.UseUrls($"http://{HostForUrl(options.Host)}:{options.Port}");
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, AppJson.Default));

        var app = builder.Build();
        var sources = new HealthSources(options, gateway);
        app.MapHealthApi(sources);
        return app;
    }

    private static string HostForUrl(string host) =>
        host is "0.0.0.0" or "*" ? "0.0.0.0" : host.Contains(':') && !host.StartsWith('[') ? $"[{host}]" : host;
}
