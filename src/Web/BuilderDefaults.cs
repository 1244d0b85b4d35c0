using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Sandbox.Web;

/// <summary>The one way the appliance's web applications (REST, OSWorld, kernel gateway) are built, logged, secured and bound.</summary>
internal static class BuilderDefaults
{
    /// <summary>
    /// An empty builder on Kestrel alone (no HTTPS, HTTP/2 or HTTP/3 pieces) with routing, bound to
    /// <paramref name="host"/>:<paramref name="port"/>, with the body limit and no Server header. Settings come
    /// from the environment only (the options classes): no configuration providers (environment variables,
    /// appsettings.json, command line) are read, so nothing is scanned or watched — the framework's default
    /// builder watched the content root (the working directory) for appsettings.json changes with a recursive
    /// FileSystemWatcher, which from a busy /tmp or / took seconds before the port was bound (measured: 7 s
    /// against 47 ms without it, from a /tmp of ~900 directories), and the slim builder's providers, logging
    /// configuration and console formatters cost milliseconds of the cold start (docs/performance.md). With
    /// <paramref name="bound"/>, Kestrel serves those already listening sockets instead of binding host:port itself.
    /// </summary>
    public static WebApplicationBuilder CreateBuilder(string host, int port, long maxRequestBodyBytes, PreBoundPort? bound = null)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = maxRequestBodyBytes;
            k.AddServerHeader = false;
        });
        builder.Services.AddRoutingCore();
        if (bound is not null) bound.HandTo(builder);
        else builder.WebHost.UseUrls($"http://{HostForUrl(host)}:{port}");
        return builder;
    }

    /// <summary>
    /// The app's log: only <paramref name="provider"/> (the console's <see cref="OneLineConsoleLogger"/>, the
    /// gateway's log file), Information and above, and categories starting with <paramref name="quietBelowWarning"/>
    /// at Warning and above. ASP.NET's per-request Information lines would log every URL, ?token= included, five
    /// lines per request into a log that runs unattended for weeks.
    /// </summary>
    public static void UseLog(WebApplicationBuilder builder, ILoggerProvider provider, string quietBelowWarning)
    {
        // The factory made here rather than by DI from logging's options (IOptionsMonitor<LoggerFilterOptions> and
        // its factories, caches and enumerables: open generics Native AOT builds at run time, before the first
        // answer). The same rules as ClearProviders + AddProvider + AddFilter; as then, the provider is the
        // caller's to dispose.
        var filters = new LoggerFilterOptions { MinLevel = LogLevel.Information };
        filters.Rules.Add(new LoggerFilterRule(null, quietBelowWarning, LogLevel.Warning, null));
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<ILoggerFactory>(_ => new LoggerFactory([provider], filters));
    }

    /// <summary>
    /// The pipeline every listener starts with: routing first (so the guard sees each endpoint's declared upload
    /// types), the request guard (Host/Origin, body types), the caller's authentication, then JSON errors for
    /// what the endpoints throw.
    /// </summary>
    public static void UseSecuredPipeline(WebApplication app, GuardPolicy guard, Action<WebApplication> authenticate, ILogger errors)
    {
        var logs = app.Services.GetRequiredService<ILoggerFactory>();
        app.UseRouting();
        app.UseRequestGuard(guard, logs.CreateLogger("Sandbox.Web"));
        authenticate(app);
        app.UseJsonErrors(errors);
    }

    /// <summary>A listen address as a URL host: any-address as 0.0.0.0, IPv6 literals in brackets.</summary>
    public static string HostForUrl(string host) =>
        host is "0.0.0.0" or "*" ? "0.0.0.0" : host.Contains(':') && !host.StartsWith('[') ? $"[{host}]" : host;
}
