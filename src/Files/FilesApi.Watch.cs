using System.Net.WebSockets;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Sandbox.Common;

namespace Sandbox.Files;

/// <summary><c>GET /files/watch?path=&amp;recursive=</c>: inotify events as WebSocket text frames or Server-Sent Events.</summary>
internal static partial class FilesApi
{
    private static int _watches;

    static partial void MapWatch(IEndpointRouteBuilder app, FileService files)
    {
        app.MapGet("/files/watch", async Task<IResult> (HttpContext http) =>
        {
            var path = FileService.Resolve(http.Request.Query["path"]);
            var recursive = Flag(http.Request.Query, "recursive");
            if (Interlocked.Increment(ref _watches) > files.Options.MaxWatches)
            {
                Interlocked.Decrement(ref _watches);
                throw SandboxException.Busy($"{files.Options.MaxWatches} watches are open (SANDBOX_FILES_MAX_WATCHES)");
            }
            try
            {
                using var watch = new FileWatch(path, recursive);
                var ct = http.RequestAborted;
                if (http.WebSockets.IsWebSocketRequest)
                {
                    using var ws = await http.WebSockets.AcceptWebSocketAsync();
                    // Reading keeps the close handshake working; clients send nothing else.
                    var closed = Task.Run(async () =>
                    {
                        var buffer = new byte[1024];
                        try { while ((await ws.ReceiveAsync(buffer, ct)).MessageType != WebSocketMessageType.Close) { } }
                        catch (Exception e) when (e is OperationCanceledException or WebSocketException) { }
                    }, ct);
                    using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
                    _ = closed.ContinueWith(_ => stop.Cancel(), TaskScheduler.Default);
                    try
                    {
                        // The first frame says the watch is in place: events from then on are not missed.
                        await ws.SendAsync(JsonSerializer.SerializeToUtf8Bytes(new WatchEvent("ready", path, Directory.Exists(path), 0), FilesJson.Default.WatchEvent),
                            WebSocketMessageType.Text, true, stop.Token);
                        await foreach (var e in watch.Events.ReadAllAsync(stop.Token))
                            await ws.SendAsync(JsonSerializer.SerializeToUtf8Bytes(e, FilesJson.Default.WatchEvent), WebSocketMessageType.Text, true, stop.Token);
                        await ws.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "watch ended", CancellationToken.None);
                    }
                    catch (Exception e) when (e is OperationCanceledException or WebSocketException) { }
                    if (ws.State == WebSocketState.CloseReceived)
                        try { await ws.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None); }
                        catch (WebSocketException) { }
                    return Results.Empty;
                }
                http.Response.ContentType = "text/event-stream";
                http.Response.Headers.CacheControl = "no-cache";
                try
                {
                    await Write(new WatchEvent("ready", path, Directory.Exists(path), 0));
                    await foreach (var e in watch.Events.ReadAllAsync(ct)) await Write(e);
                }
                catch (OperationCanceledException) { }
                return Results.Empty;

                async Task Write(WatchEvent e)
                {
                    await http.Response.WriteAsync($"id: {e.Seq}\nevent: {e.Type}\ndata: {JsonSerializer.Serialize(e, FilesJson.Default.WatchEvent)}\n\n", ct);
                    await http.Response.Body.FlushAsync(ct);
                }
            }
            finally { Interlocked.Decrement(ref _watches); }
        });
    }
}
