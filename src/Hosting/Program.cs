using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Sandbox.Api;

namespace Sandbox.Hosting;

internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        SandboxOptions options;
        try
        {
            options = SandboxOptions.FromEnvironment(Environment.GetEnvironmentVariables());
        }
        catch (OptionsException e)
        {
            foreach (var error in e.Errors) Console.Error.WriteLine($"sandbox: {error}");
            return 2;
        }

        var app = BuildApi(args, options);
        await app.RunAsync();
        return 0;
    }

    /// <summary>Builds the REST appliance on HOST:PORT.</summary>
    internal static WebApplication BuildApi(string[] args, SandboxOptions options)
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
        var sources = new HealthSources(options);
        app.MapHealthApi(sources);
        return app;
    }

    private static string HostForUrl(string host) =>
        host is "0.0.0.0" or "*" ? "0.0.0.0" : host.Contains(':') && !host.StartsWith('[') ? $"[{host}]" : host;
}
