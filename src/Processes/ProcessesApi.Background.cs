using System.Globalization;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Sandbox.Common;
using Sandbox.Web;

namespace Sandbox.Processes;

/// <summary>Background processes and their stream (WebSocket or Server-Sent Events, with replay).</summary>
internal static partial class ProcessesApi
{
    static partial void MapBackground(IEndpointRouteBuilder app, ProcessService service)
    {
        app.MapPost("/process/start", async Task<IResult> (HttpContext http) =>
        {
            var request = (await JsonBody.ReadAsync(http.Request, ProcessesJson.Default.RunRequest, ct: http.RequestAborted))!;
            return Results.Json(await service.StartAsync(request), ProcessesJson.Default.ProcessInfo, statusCode: 201);
        });
        app.MapGet("/process", () => Results.Json(new ProcessList(service.List()), ProcessesJson.Default.ProcessList));
        app.MapGet("/process/{id}", (string id) => Results.Json(service.Get(id).Info(), ProcessesJson.Default.ProcessInfo));
        app.MapDelete("/process/{id}", async Task<IResult> (string id, HttpContext http) =>
            Results.Json(await service.EndAsync(id, http.RequestAborted), ProcessesJson.Default.ProcessInfo));
        app.MapPost("/process/{id}/signal", async Task<IResult> (string id, HttpContext http) =>
        {
            var r = (await JsonBody.ReadAsync(http.Request, ProcessesJson.Default.SignalRequest, ct: http.RequestAborted))!;
            var p = service.Get(id);
            p.Signal(ProcessService.ParseSignal(r.Signal));
            return Results.Json(p.Info(), ProcessesJson.Default.ProcessInfo);
        });
        app.MapPost("/process/{id}/stdin", async Task<IResult> (string id, HttpContext http) =>
        {
            var r = (await JsonBody.ReadAsync(http.Request, ProcessesJson.Default.StdinRequest, ct: http.RequestAborted))!;
            var p = service.Get(id);
            await p.WriteAsync(OutputText.Decode(r.Data, r.Encoding, "data"), r.Eof ?? false, http.RequestAborted);
            return Results.Json(p.Info(), ProcessesJson.Default.ProcessInfo);
        });
        app.MapPost("/process/{id}/resize", async Task<IResult> (string id, HttpContext http) =>
        {
            var r = (await JsonBody.ReadAsync(http.Request, ProcessesJson.Default.ResizeRequest, ct: http.RequestAborted))!;
            var p = service.Get(id);
            p.Resize(r.Cols, r.Rows);
            return Results.Json(p.Info(), ProcessesJson.Default.ProcessInfo);
        });
        app.MapGet("/process/{id}/stream", async Task (string id, HttpContext http) =>
        {
            var p = service.Get(id);
            var since = Since(http);
            if (http.WebSockets.IsWebSocketRequest) await StreamWebSocketAsync(p, since, http);
            else await StreamSseAsync(p, since, http);
        });
    }

    /// <summary>The last sequence number the client saw: <c>?since=</c> or SSE's <c>Last-Event-ID</c>; 0 replays all held.</summary>
    private static long Since(HttpContext http)
    {
        var s = (string?)http.Request.Query["since"] ?? (string?)http.Request.Headers["Last-Event-ID"];
        if (string.IsNullOrEmpty(s)) return 0;
        return long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v
            : throw SandboxException.BadField("since", $"'{s}': expected a sequence number");
    }

    private static StreamEvent Event(OutputEvent e)
    {
        if (e.Type == "exit") return new StreamEvent(e.Seq, "exit", null, null, e.ExitCode, e.Signal);
        var (text, encoding) = OutputText.Encode(e.Data);
        return new StreamEvent(e.Seq, e.Type, text, encoding, null, null);
    }

    private static async Task StreamSseAsync(BackgroundProcess p, long since, HttpContext http)
    {
        http.Response.ContentType = "text/event-stream";
        http.Response.Headers.CacheControl = "no-cache";
        var ct = http.RequestAborted;
        try
        {
            while (true)
            {
                var (events, changed) = p.Output.After(since);
                foreach (var e in events)
                {
                    var json = JsonSerializer.Serialize(Event(e), ProcessesJson.Default.StreamEvent);
                    await http.Response.WriteAsync($"id: {e.Seq}\nevent: {e.Type}\ndata: {json}\n\n", ct);
                    since = e.Seq;
                    if (e.Type == "exit") return;
                }
                await http.Response.Body.FlushAsync(ct);
                await changed.WaitAsync(ct);
            }
        }
        catch (OperationCanceledException) { }
    }

    private static async Task StreamWebSocketAsync(BackgroundProcess p, long since, HttpContext http)
    {
        using var ws = await http.WebSockets.AcceptWebSocketAsync();
        using var done = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted);
        var input = ReadInputAsync(p, ws, done.Token);
        try
        {
            while (!done.IsCancellationRequested)
            {
                var (events, changed) = p.Output.After(since);
                foreach (var e in events)
                {
                    var json = JsonSerializer.SerializeToUtf8Bytes(Event(e), ProcessesJson.Default.StreamEvent);
                    await ws.SendAsync(json, WebSocketMessageType.Text, true, done.Token);
                    since = e.Seq;
                    if (e.Type == "exit")
                    {
                        await ws.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "exited", done.Token);
                        await input.WaitAsync(TimeSpan.FromSeconds(5), done.Token).ContinueWith(_ => { }, TaskScheduler.Default);
                        return;
                    }
                }
                await Task.WhenAny(changed, input).WaitAsync(done.Token);
                if (input.IsCompleted)
                {
                    // The client closed (or its socket failed): answer its close to complete the handshake.
                    if (ws.State == WebSocketState.CloseReceived)
                        await ws.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
                    return;
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException) { }
        finally { done.Cancel(); }
    }

    /// <summary>Client messages: <c>stdin</c> (data, encoding), <c>eof</c>, <c>resize</c> (cols, rows), <c>signal</c>.</summary>
    private static async Task ReadInputAsync(BackgroundProcess p, WebSocket ws, CancellationToken ct)
    {
        var buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        try
        {
            while (ws.State == WebSocketState.Open)
            {
                var r = await ws.ReceiveAsync(buffer, ct);
                if (r.MessageType == WebSocketMessageType.Close) return;
                message.Write(buffer, 0, r.Count);
                if (message.Length > 1 << 20) { await ws.CloseAsync(WebSocketCloseStatus.MessageTooBig, "message too big", ct); return; }
                if (!r.EndOfMessage) continue;
                var bytes = message.ToArray();
                message.SetLength(0);
                if (r.MessageType == WebSocketMessageType.Binary)
                {
                    try { await Apply(p, bytes, ct); }
                    catch (SandboxException e) { await SendError(ws, e.Message, ct); }
                    continue;
                }
                ClientMessage? m;
                try { m = JsonSerializer.Deserialize(bytes, ProcessesJson.Default.ClientMessage); }
                catch (JsonException) { m = null; }
                try
                {
                    switch (m?.Type)
                    {
                        case "stdin" or "input": await Apply(p, OutputText.Decode(m.Data, m.Encoding, "data"), ct); break;
                        case "eof": await p.WriteAsync([], true, ct); break;
                        case "resize": p.Resize(m.Cols ?? 0, m.Rows ?? 0); break;
                        case "signal": p.Signal(ProcessService.ParseSignal(m.Signal)); break;
                        default: await SendError(ws, "expected a JSON message with type stdin, eof, resize or signal", ct); break;
                    }
                }
                catch (SandboxException e) { await SendError(ws, e.Message, ct); }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException) { }
    }

    private static Task Apply(BackgroundProcess p, byte[] data, CancellationToken ct) => p.WriteAsync(data, false, ct);

    private static Task SendError(WebSocket ws, string message, CancellationToken ct)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(new StreamEvent(0, "error", message, "utf-8", null, null), ProcessesJson.Default.StreamEvent);
        return ws.SendAsync(json, WebSocketMessageType.Text, true, ct);
    }
}
