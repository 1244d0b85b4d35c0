using System.Buffers;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Sandbox.Common;
using Sandbox.Web;
using System.Text.Json.Serialization;

namespace Sandbox.LiveView;

/// <summary>
/// The live view (README "Live view"): the page at <c>/</c> and <c>/view</c>, its assets, the frame
/// stream over WebSocket (<c>/view/stream</c>) or MJPEG (<c>/view/mjpeg</c>), and <c>/view/status</c>.
/// Every viewer has its own send loop at its own pace; the producer only ever replaces the viewer's
/// pending frame, so a slow viewer skips frames instead of queueing them.
/// </summary>
internal static class LiveViewApi
{
    private const int MaxControlMessageBytes = 64 * 1024;
    private const string MjpegBoundary = "sandbox-frame";

    public static IEndpointRouteBuilder MapLiveViewApi(this IEndpointRouteBuilder app, LiveViewHub hub)
    {
        var page = PageAsset.Load("index.html", "text/html; charset=utf-8");
        var assets = new Dictionary<string, PageAsset>(StringComparer.Ordinal)
        {
            ["app.js"] = PageAsset.Load("app.js", "text/javascript; charset=utf-8"),
            ["app.css"] = PageAsset.Load("app.css", "text/css; charset=utf-8"),
        };

        app.MapGet("/", (HttpContext http) => page.Serve(http)).WithMetadata(NoTokenRequired.Instance);
        app.MapGet("/view", (HttpContext http) => page.Serve(http)).WithMetadata(NoTokenRequired.Instance);
        app.MapGet("/view/assets/{name}", (HttpContext http, string name) =>
            assets.TryGetValue(name, out var a) ? a.Serve(http) : throw SandboxException.NotFound($"no asset '{name}'"))
            .WithMetadata(NoTokenRequired.Instance);

        app.MapGet("/view/status", () => Results.Json(hub.Status(), LiveViewJson.Default.LiveViewStatus));

        app.MapGet("/view/activity", (HttpContext http) =>
        {
            var max = Capture.ScreenshotRequest.Int(http.Request.Query, "limit", 1, ActivityFeed.Capacity) ?? 50;
            return Results.Json(hub.Feed.Recent(max), LiveViewJson.Default.ActivityEntryArray);
        });

        app.MapGet("/view/stream", async (HttpContext http) =>
        {
            if (!http.WebSockets.IsWebSocketRequest)
                throw SandboxException.BadRequest("/view/stream is a WebSocket endpoint (for a plain <img>, use /view/mjpeg)");
            using var viewer = hub.TryJoin("websocket") ?? throw TooManyViewers(hub);
            using var socket = await http.WebSockets.AcceptWebSocketAsync();
            await StreamToSocket(socket, viewer, hub, http.RequestAborted);
            return Results.Empty;
        });

        app.MapGet("/view/mjpeg", async (HttpContext http) =>
        {
            using var viewer = hub.TryJoin("mjpeg") ?? throw TooManyViewers(hub);
            var ct = http.RequestAborted;
            http.Response.ContentType = $"multipart/x-mixed-replace; boundary={MjpegBoundary}";
            http.Response.Headers.CacheControl = "no-store";
            await http.Response.StartAsync(ct);
            var body = http.Response.Body;
            // Each frame is followed at once by the next boundary and the next part's headers: Chrome
            // shows a part only once the following part has begun, and on a still screen the next
            // frame may be minutes away. Parts are therefore delimited by boundaries, without lengths.
            var separator = Encoding.ASCII.GetBytes($"\r\n--{MjpegBoundary}\r\nContent-Type: image/jpeg\r\n\r\n");
            try
            {
                await body.WriteAsync(separator.AsMemory(2), ct);
                while (await viewer.WaitAsync(ct))
                {
                    if (viewer.TakeFrame() is not { } f) continue;
                    await body.WriteAsync(f.Jpeg, ct);
                    await body.WriteAsync(separator, ct);
                    // Completes once the transport took the bytes; a slow client holds this loop here
                    // while its pending frame keeps being replaced.
                    await body.FlushAsync(ct);
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested) { }
            catch (IOException) { }
            return Results.Empty;
        });
        return app;
    }

    private static SandboxException TooManyViewers(LiveViewHub hub) =>
        SandboxException.Unavailable($"{hub.Options.MaxViewers} viewers are already watching (SANDBOX_VIEW_MAX_VIEWERS)");

    private static async Task StreamToSocket(WebSocket socket, Viewer viewer, LiveViewHub hub, CancellationToken aborted)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        var ct = cts.Token;
        // Control results come back on the receive side; they go through the viewer's event queue so
        // that only the send loop below ever sends (WebSocket allows one sender at a time).
        var receiving = ReceiveLoop(socket, viewer, hub, ct).ContinueWith(_ => cts.Cancel(), TaskScheduler.Default);
        try
        {
            await SendText(socket, JsonSerializer.SerializeToUtf8Bytes(hub.Hello(viewer), LiveViewJson.Default.HelloMessage), ct);
            while (await viewer.WaitAsync(ct))
            {
                while (viewer.TryTakeEvent(out var json))
                    await SendText(socket, Encoding.UTF8.GetBytes(json), ct);
                if (viewer.TakeFrame() is not { } f) continue;
                var meta = new FrameMessage("frame", f.Sequence, f.Width, f.Height, [f.ScreenWidth, f.ScreenHeight],
                    [f.PointerX, f.PointerY], f.CapturedUnixMs, Math.Round(f.EncodeMs, 2), f.Jpeg.Length, viewer.Skipped);
                await SendText(socket, JsonSerializer.SerializeToUtf8Bytes(meta, LiveViewJson.Default.FrameMessage), ct);
                await socket.SendAsync(f.Jpeg, WebSocketMessageType.Binary, endOfMessage: true, ct);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { }
        catch (WebSocketException) { }
        catch (IOException) { }
        finally
        {
            // The close frame goes first, while the receive loop still runs to read the viewer's answer:
            // cancelling a pending receive aborts the socket, which would end it without a close handshake.
            if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                try
                {
                    using var closing = new CancellationTokenSource(1000);
                    await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, closing.Token);
                }
                catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException) { }
            }
            await Task.WhenAny(receiving, Task.Delay(1000, CancellationToken.None));
            await cts.CancelAsync();
            await receiving;
        }
    }

    private static Task SendText(WebSocket socket, byte[] utf8, CancellationToken ct) =>
        socket.SendAsync(utf8, WebSocketMessageType.Text, endOfMessage: true, ct);

    /// <summary>Reads control messages until the client closes; each is answered with a <c>control_result</c> event.</summary>
    private static async Task ReceiveLoop(WebSocket socket, Viewer viewer, LiveViewHub hub, CancellationToken ct)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(MaxControlMessageBytes);
        try
        {
            while (!ct.IsCancellationRequested)
            {
                var length = 0;
                ValueWebSocketReceiveResult r;
                do
                {
                    if (length == buffer.Length)
                    {
                        await socket.CloseOutputAsync(WebSocketCloseStatus.MessageTooBig, $"messages are limited to {MaxControlMessageBytes} bytes", ct);
                        return;
                    }
                    r = await socket.ReceiveAsync(buffer.AsMemory(length), ct);
                    length += r.Count;
                } while (!r.EndOfMessage && r.MessageType != WebSocketMessageType.Close);
                if (r.MessageType == WebSocketMessageType.Close) return;
                if (r.MessageType != WebSocketMessageType.Text) continue;
                var reply = await HandleMessage(buffer.AsMemory(0, length), hub, ct);
                if (reply is not null) viewer.Post(JsonSerializer.Serialize(reply, LiveViewJson.Default.ControlResultMessage));
            }
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException or IOException) { }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static async Task<ControlResultMessage?> HandleMessage(ReadOnlyMemory<byte> utf8, LiveViewHub hub, CancellationToken ct)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(utf8, new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException e)
        {
            return new ControlResultMessage("control_result", null, "error", 400, $"not valid JSON ({e.Message})");
        }
        using (doc)
        {
            var root = doc.RootElement;
            long? id = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("id", out var i) && i.TryGetInt64(out var n) ? n : null;
            var type = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
            if (type == "ping") return new ControlResultMessage("pong", id, "ok", 200, null);
            if (type != "action" || !root.TryGetProperty("action", out var action))
                return new ControlResultMessage("control_result", id, "error", 400, "expected {\"type\": \"action\", \"action\": {...}} or {\"type\": \"ping\"}");
            var outcome = await hub.ControlAsync(action, ct);
            return new ControlResultMessage("control_result", id, outcome.Status is >= 200 and < 300 ? "ok" : "error", outcome.Status, outcome.Message);
        }
    }

    /// <summary>A page file compiled into the binary (src/LiveView/Page), served with an ETag.</summary>
    private sealed class PageAsset(byte[] content, string contentType, string etag)
    {
        public static PageAsset Load(string name, string contentType)
        {
            var resource = "Sandbox.LiveView.Page." + name;
            using var s = typeof(LiveViewApi).Assembly.GetManifestResourceStream(resource)
                ?? throw new InvalidOperationException($"embedded resource {resource} is missing from the build");
            using var m = new MemoryStream();
            s.CopyTo(m);
            var bytes = m.ToArray();
            return new PageAsset(bytes, contentType, $"\"{System.IO.Hashing.XxHash3.HashToUInt64(bytes):x16}\"");
        }

        public IResult Serve(HttpContext http)
        {
            http.Response.Headers.ETag = etag;
            http.Response.Headers.CacheControl = "no-cache";
            http.Response.Headers["X-Content-Type-Options"] = "nosniff";
            if (contentType.StartsWith("text/html", StringComparison.Ordinal))
                http.Response.Headers.ContentSecurityPolicy =
                    "default-src 'self'; img-src 'self' blob: data:; connect-src 'self'; frame-ancestors 'self'";
            if (http.Request.Headers.IfNoneMatch == etag) return Results.StatusCode(StatusCodes.Status304NotModified);
            return Results.Bytes(content, contentType);
        }
    }
}

/// <summary>The live view's JSON: stream messages, status and the activity list.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ActivityEntry[]))]
[JsonSerializable(typeof(HelloMessage))]
[JsonSerializable(typeof(FrameMessage))]
[JsonSerializable(typeof(ActivityMessage))]
[JsonSerializable(typeof(DisplayMessage))]
[JsonSerializable(typeof(ControlResultMessage))]
[JsonSerializable(typeof(LiveViewStatus))]
internal sealed partial class LiveViewJson : JsonSerializerContext;
