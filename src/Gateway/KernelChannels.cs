using System.Net.WebSockets;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Sandbox.Web;

namespace Sandbox.Gateway;

/// <summary>
/// The WebSocket endpoint. The 101 is held until the kernel answered a kernel_info_request on this
/// connection's own shell socket, so a client may send the moment the upgrade completes (jupyter_server's
/// pre_get). The kernel_info exchange itself never reaches the client.
/// </summary>
internal static class KernelChannels
{
    public static async Task<IResult> HandleAsync(HttpContext ctx, GatewayState gateway, string id)
    {
        var options = gateway.Options;
        var log = gateway.Log;
        if (!ctx.WebSockets.IsWebSocketRequest)
            return ErrorResults.Error(400, "Bad Request", "Can \"Upgrade\" only to \"WebSocket\".");
        var kernel = KernelsApi.Find(gateway.Kernels, id);
        if (!OriginAllowed(ctx, options))
        {
            log.LogWarning("blocking cross-origin WebSocket from {Origin}", ctx.Request.Headers.Origin.ToString());
            return ErrorResults.Error(403, "Forbidden", "Cross origin WebSocket not allowed");
        }

        // A dead kernel (past its restart limit) or one that does not come up: 503 naming why, not a server error.
        if (!await kernel.WaitReadyAsync(TimeSpan.FromMilliseconds(options.KernelStartTimeoutMs), ctx.RequestAborted))
            return ErrorResults.Error(503, "Service Unavailable", kernel.Model().Reason is { } reason
                ? $"Kernel {id} is not running: {reason}"
                : $"Kernel {id} did not become ready within {options.KernelStartTimeoutMs} ms (SANDBOX_KERNEL_START_TIMEOUT_MS)");

        var sessionId = ctx.Request.Query["session_id"].ToString();
        if (sessionId.Length == 0) sessionId = Guid.NewGuid().ToString();
        var protocol = ctx.WebSockets.WebSocketRequestedProtocols.Contains(WebSocketCodec.V1Subprotocol) ? WsProtocol.V1 : WsProtocol.Legacy;
        var connection = new KernelConnection(kernel, sessionId, protocol, options, log);

        await kernel.Hub.AttachAsync(connection);
        try
        {
            var info = kernel.Hub.RequestAsync("shell", "kernel_info_request", WireMessage.EmptyObject, sessionId);
            try
            {
                await info.WaitAsync(TimeSpan.FromMilliseconds(options.KernelInfoTimeoutMs), ctx.RequestAborted);
            }
            catch (TimeoutException)
            {
                kernel.Hub.ForgetPending(info);
                log.LogWarning("kernel {Kernel}: timeout waiting for kernel_info reply; accepting the WebSocket anyway", id);
            }

            using var socket = await ctx.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
            {
                SubProtocol = protocol == WsProtocol.V1 ? WebSocketCodec.V1Subprotocol : null,
                KeepAliveInterval = options.WebSocketPingSeconds > 0 ? TimeSpan.FromSeconds(options.WebSocketPingSeconds) : Timeout.InfiniteTimeSpan,
            });
            kernel.Touch();
            log.LogInformation("kernel {Kernel}: connection opened (session {Session}, {Protocol})", id, sessionId, protocol);
            await connection.RunAsync(socket, ctx.RequestAborted);
            log.LogInformation("kernel {Kernel}: connection closed (session {Session})", id, sessionId);
        }
        catch (OperationCanceledException)
        {
            // Client went away while the upgrade was held.
        }
        finally
        {
            kernel.Hub.Detach(connection);
        }
        return Results.Empty;
    }

    /// <summary>
    /// jupyter_server's check_origin: no Origin header (non-browser clients) or "*" passes; otherwise the
    /// origin must equal KG_ALLOW_ORIGIN or be the same host the request was sent to.
    /// </summary>
    private static bool OriginAllowed(HttpContext ctx, GatewayOptions options)
    {
        var origin = ctx.Request.Headers.Origin.ToString();
        if (origin.Length == 0 || options.AllowOrigin == "*") return true;
        if (options.AllowOrigin is { } allowed && string.Equals(origin, allowed, StringComparison.OrdinalIgnoreCase)) return true;
        return Uri.TryCreate(origin, UriKind.Absolute, out var uri) &&
            string.Equals(uri.Authority, ctx.Request.Host.Value, StringComparison.OrdinalIgnoreCase);
    }
}
