using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Sandbox.Web;

/// <summary>
/// <c>SANDBOX_TOKEN</c> on the REST port: when set, every request must present it (see <see cref="AccessToken"/>)
/// or gets 401 <c>{"reason":"Unauthorized"}</c>. <c>GET /health</c> (and HEAD) stays open on purpose: orchestrators
/// and start.sh probe it without credentials, and it reveals state (display, recording, kernels' pids), not
/// secrets, screen content or a way to act. The live view's page shell (<c>/</c>, <c>/view</c>, <c>/view/assets/*</c>)
/// is open too: it is the same static HTML/JS/CSS compiled into every binary, and a browser cannot attach a header
/// to the page's own script and style loads; everything it then fetches or streams presents the token.
/// The token itself is never logged or echoed.
/// </summary>
internal static class TokenAuth
{
    public static IApplicationBuilder UseTokenAuth(this IApplicationBuilder app, string? token) =>
        app.UseTokenAuth(new AccessToken(token));

    /// <summary>Checks <paramref name="expected"/> per request: it may be set later (<c>POST /init</c>).</summary>
    public static IApplicationBuilder UseTokenAuth(this IApplicationBuilder app, AccessToken expected)
    {
        return app.Use(async (http, next) =>
        {
            if (!expected.IsSet || IsOpen(http) || expected.Authorizes(http.Request))
            {
                await next(http);
                return;
            }
            await ErrorResults.Error(StatusCodes.Status401Unauthorized, "Unauthorized",
                "this endpoint needs the SANDBOX_TOKEN: 'Authorization: token <token>', 'Authorization: Bearer <token>' or '?token=<token>'")
                .ExecuteAsync(http);
        });
    }

    private static bool IsOpen(HttpContext http) =>
        (HttpMethods.IsGet(http.Request.Method) || HttpMethods.IsHead(http.Request.Method))
        && http.GetEndpoint()?.Metadata.GetMetadata<NoTokenRequired>() is not null;
}

/// <summary>
/// Endpoint metadata: a GET that answers without the token. Reveals state or the static page shell, never
/// content: <c>/health</c> and the fleet probes, the live view's page and assets (see <see cref="TokenAuth"/>).
/// </summary>
internal sealed class NoTokenRequired
{
    public static readonly NoTokenRequired Instance = new();
}
