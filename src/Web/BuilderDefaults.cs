using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;

namespace Sandbox.Web;

/// <summary>The one way the appliance's web applications (REST, kernel gateway, ...) are built and bound.</summary>
internal static class BuilderDefaults
{
    /// <summary>
    /// A slim builder on Kestrel alone, bound to <paramref name="host"/>:<paramref name="port"/>, with the body
    /// limit and no Server header. Settings come from the environment only (the options classes), so
    /// configuration files are never reloaded: the framework's default would watch the content root (the
    /// working directory) for appsettings.json changes with a recursive FileSystemWatcher, one inotify watch
    /// per directory below it, which from a busy /tmp or / took seconds before the port was bound (measured:
    /// 7 s against 47 ms without it, from a /tmp of ~900 directories). With <paramref name="bound"/>, Kestrel
    /// serves those already listening sockets instead of binding host:port itself.
    /// </summary>
    public static WebApplicationBuilder CreateBuilder(string host, int port, long maxRequestBodyBytes, PreBoundPort? bound = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = ["--hostBuilder:reloadConfigOnChange=false"],
        });
        builder.WebHost.UseKestrelCore().ConfigureKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = maxRequestBodyBytes;
            k.AddServerHeader = false;
        });
        if (bound is not null) bound.HandTo(builder);
        else builder.WebHost.UseUrls($"http://{HostForUrl(host)}:{port}");
        return builder;
    }

    /// <summary>A listen address as a URL host: any-address as 0.0.0.0, IPv6 literals in brackets.</summary>
    public static string HostForUrl(string host) =>
        host is "0.0.0.0" or "*" ? "0.0.0.0" : host.Contains(':') && !host.StartsWith('[') ? $"[{host}]" : host;
}
