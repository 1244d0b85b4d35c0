using System.Net;
using System.Net.NetworkInformation;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Sandbox.Common;

namespace Sandbox.Web;

/// <summary>
/// Request types an endpoint accepts besides JSON for a state-changing body (uploads: octet-stream,
/// multipart, text/plain, image/png). Attach with <c>.WithMetadata(new BodyTypes(...))</c>.
/// </summary>
internal sealed class BodyTypes(params string[] mediaTypes)
{
    public IReadOnlyList<string> MediaTypes { get; } = mediaTypes;

    public bool Accepts(string mediaType)
    {
        foreach (var t in MediaTypes)
        {
            if (t.Equals(mediaType, StringComparison.OrdinalIgnoreCase)) return true;
            if (t.EndsWith("/*", StringComparison.Ordinal) && mediaType.StartsWith(t[..^1], StringComparison.OrdinalIgnoreCase)) return true;
        }
        return false;
    }
}

/// <summary>Who may talk to a port: the Host names and browser origins admitted (README "Security").</summary>
internal sealed record GuardPolicy(IReadOnlyList<string> AllowedHosts, IReadOnlyList<string> AllowedOrigins)
{
    /// <summary><c>*</c> in the host list turns the Host check off (behind a proxy that rewrites Host).</summary>
    public bool AnyHost => AllowedHosts.Contains("*");

    /// <summary><c>*</c> in the origin list admits every origin: only for a port no browser in the VM can reach.</summary>
    public bool AnyOrigin => AllowedOrigins.Contains("*");

    public static IReadOnlyList<string> ParseList(string? value) =>
        string.IsNullOrWhiteSpace(value) ? [] : value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}

/// <summary>
/// The browser inside the VM is the attacker: every page it loads can send requests to 127.0.0.1. This
/// middleware, the first on every port, refuses with 403 <c>{"reason","message"}</c>:
/// <list type="bullet">
/// <item>a <c>Host</c> that is neither an IP literal, a loopback name, this machine's name, nor in the allow-list
/// (DNS rebinding: a page whose own name now resolves to 127.0.0.1 sends its own name as Host);</item>
/// <item>an <c>Origin</c> that is neither the request's own origin nor allowed, and
/// <c>Sec-Fetch-Site: cross-site/same-site</c> without an allowed Origin (an &lt;img&gt; or a form from another page);</item>
/// <item>a POST/PUT/PATCH/DELETE whose body is declared as anything but JSON, unless the endpoint declares
/// <see cref="BodyTypes"/> (415: the "simple" text/plain and form bodies a page can send without a preflight).</item>
/// </list>
/// Requests without Origin and Sec-Fetch-* headers (SDKs, curl, the old suite's executor) are unaffected.
/// </summary>
internal static class RequestGuard
{
    public static IApplicationBuilder UseRequestGuard(this IApplicationBuilder app, GuardPolicy policy, ILogger log) =>
        app.Use(async (http, next) =>
        {
            if (Refusal(http, policy) is { } refusal)
            {
                log.LogWarning("refused {Method} {Path}: {Why}", http.Request.Method, http.Request.Path, refusal.Message);
                await ErrorResults.Error(refusal).ExecuteAsync(http);
                return;
            }
            await next(http);
        });

    /// <summary>Why the request is refused, or null when it may go on.</summary>
    public static SandboxException? Refusal(HttpContext http, GuardPolicy policy)
    {
        var request = http.Request;
        var host = request.Host.Host;
        if (!policy.AnyHost && request.Host.HasValue && !HostAllowed(host, policy.AllowedHosts))
            return SandboxException.Forbidden($"Host '{host}' is not a name of this machine (set SANDBOX_ALLOW_HOSTS to admit it)");

        var origin = request.Headers.Origin.ToString();
        var site = request.Headers["Sec-Fetch-Site"].ToString();
        if (origin.Length > 0)
        {
            if (!OriginAllowed(origin, request, policy))
                return SandboxException.Forbidden($"Origin '{origin}' is not allowed (set SANDBOX_ALLOW_ORIGINS to admit it)");
        }
        else if (site.Equals("cross-site", StringComparison.OrdinalIgnoreCase) || site.Equals("same-site", StringComparison.OrdinalIgnoreCase))
        {
            // A browser sent it on another page's behalf (an <img>, a link, a no-cors GET) without saying whose.
            return SandboxException.Forbidden($"a request sent by another site's page (Sec-Fetch-Site: {site}) is not allowed");
        }

        // A body without Content-Type passes: agents' HTTP clients (requests' data=..., the Kernel Gateway
        // clients) send JSON that way, and a browser cannot send one cross-origin past the Origin check.
        if (ChangesState(request.Method) && HasBody(request) && request.ContentType is { Length: > 0 } ct && !JsonBody.IsJson(request))
        {
            var type = JsonBody.MediaType(ct);
            var accepted = http.GetEndpoint()?.Metadata.GetMetadata<BodyTypes>();
            if (accepted is null || !accepted.Accepts(type))
                return SandboxException.UnsupportedMediaType(
                    $"the body must be application/json{(accepted is null ? "" : " or " + string.Join(", ", accepted.MediaTypes))}, not '{type}'");
        }
        return null;
    }

    private static bool ChangesState(string method) =>
        HttpMethods.IsPost(method) || HttpMethods.IsPut(method) || HttpMethods.IsPatch(method) || HttpMethods.IsDelete(method);

    private static bool HasBody(HttpRequest request) =>
        request.ContentLength is > 0 || (request.ContentLength is null && request.Headers.TransferEncoding.Count > 0);

    /// <summary>
    /// IP literals pass (a rebinding page cannot make a browser send an IP it does not own as Host), as do
    /// <c>localhost</c> and <c>*.localhost</c>, this machine's host name, and the configured names
    /// (exact, or <c>.suffix</c> / <c>*.suffix</c> for a domain and everything below it).
    /// </summary>
    public static bool HostAllowed(string host, IReadOnlyList<string> allowed)
    {
        if (host.Length == 0) return true;
        var bare = host.Trim('[', ']');
        if (IPAddress.TryParse(bare, out _)) return true;
        if (bare.Equals("localhost", StringComparison.OrdinalIgnoreCase)
            || bare.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase)) return true;
        if (bare.Equals(MachineName.Value, StringComparison.OrdinalIgnoreCase)
            || bare.Equals(MachineName.Value + ".local", StringComparison.OrdinalIgnoreCase)) return true;
        foreach (var a in allowed)
        {
            if (a.Equals(bare, StringComparison.OrdinalIgnoreCase)) return true;
            var suffix = a.StartsWith("*.", StringComparison.Ordinal) ? a[1..] : a.StartsWith('.') ? a : null;
            if (suffix is not null && bare.EndsWith(suffix, StringComparison.OrdinalIgnoreCase)) return true;
        }
        return false;
    }

    /// <summary>Same origin as the request (the live view page calling its own port), or configured.</summary>
    public static bool OriginAllowed(string origin, HttpRequest request, GuardPolicy policy)
    {
        if (policy.AnyOrigin) return true;
        foreach (var a in policy.AllowedOrigins)
            if (a.TrimEnd('/').Equals(origin, StringComparison.OrdinalIgnoreCase)) return true;
        if (!Uri.TryCreate(origin, UriKind.Absolute, out var o) || (o.Scheme != "http" && o.Scheme != "https")) return false;
        // Same origin: the origin's host and port are the ones the request was sent to (Host is checked above).
        var requestPort = request.Host.Port ?? (request.IsHttps ? 443 : 80);
        return o.Host.Equals(request.Host.Host.Trim('[', ']'), StringComparison.OrdinalIgnoreCase) && o.Port == requestPort;
    }

    private static class MachineName
    {
        public static readonly string Value = Read();

        private static string Read()
        {
            try { return IPGlobalProperties.GetIPGlobalProperties().HostName; }
            catch (Exception e) when (e is NetworkInformationException or PlatformNotSupportedException) { return Environment.MachineName; }
        }
    }
}
