using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Sandbox.Mcp;

/// <summary>
/// MCP Streamable HTTP on <c>/mcp</c> (docs/mcp.md): POST carries client messages (a request is answered
/// with JSON; a tools/call turns into an SSE stream once it sends a progress notification), GET opens the
/// session's stream for server-initiated messages, DELETE ends the session. Sessions are named by the
/// <c>Mcp-Session-Id</c> header the initialize answer sets. Origin/Host and the token are checked by the
/// port's middleware before any of this runs.
/// </summary>
internal static class McpApi
{
    public const string Path = "/mcp";
    private const string SessionHeader = "Mcp-Session-Id";
    private const string VersionHeader = "MCP-Protocol-Version";
    private static readonly byte[] EventPrefix = "event: message\ndata: "u8.ToArray();
    private static readonly byte[] EventEnd = "\n\n"u8.ToArray();

    public static IEndpointRouteBuilder MapMcpApi(this IEndpointRouteBuilder app, McpServer server)
    {
        // Plain RequestDelegates: nothing for the request delegate factory to build on the first request.
        app.MapPost(Path, new RequestDelegate(http => PostAsync(http, server)));
        app.MapGet(Path, new RequestDelegate(http => GetAsync(http, server)));
        app.MapDelete(Path, new RequestDelegate(http => DeleteAsync(http, server)));
        return app;
    }

    private static async Task PostAsync(HttpContext http, McpServer server)
    {
        if (http.Request.Headers[VersionHeader].ToString() is { Length: > 0 } v && !McpServer.IsSupported(v))
        {
            await WriteJson(http, 400, McpMessages.Error(null, RpcError.InvalidRequest,
                $"unsupported MCP-Protocol-Version {v}; supported: {string.Join(", ", McpServer.SupportedVersions)}"));
            return;
        }

        JsonDocument doc;
        try
        {
            doc = await JsonDocument.ParseAsync(http.Request.Body, new JsonDocumentOptions { MaxDepth = 64 }, http.RequestAborted);
        }
        catch (JsonException e)
        {
            await WriteJson(http, 400, McpMessages.Error(null, RpcError.ParseError, $"parse error: {e.Message}"));
            return;
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind == JsonValueKind.Array)
            {
                await PostBatchAsync(http, server, root);
                return;
            }
            if (!Classify(root, out var request, out var kind, out var problem))
            {
                await WriteJson(http, 400, McpMessages.Error(IdOf(root), RpcError.InvalidRequest, problem!));
                return;
            }

            if (kind == MessageKind.Request && request.Method == "initialize")
            {
                try
                {
                    var (session, response) = server.Initialize(request);
                    http.Response.Headers[SessionHeader] = session.Id;
                    await WriteJson(http, 200, response);
                }
                catch (McpProtocolException e)
                {
                    await WriteJson(http, e.Code == RpcError.Internal ? 503 : 400, McpMessages.Error(request.Id, e.Code, e.Message));
                }
                return;
            }

            var found = await SessionOf(http, server);
            if (found is not { } s) return;
            if (kind != MessageKind.Request)
            {
                if (kind == MessageKind.Notification) server.Notify(s, request.Method, request.Params);
                http.Response.StatusCode = StatusCodes.Status202Accepted;
                return;
            }

            if (request.Method == "tools/call" && AcceptsEventStream(http.Request))
                await AnswerWithStreamAsync(http, server, s, request);
            else
            {
                using var response = await server.HandleAsync(s, request, null, http.RequestAborted);
                if (response is null) { http.Response.StatusCode = StatusCodes.Status202Accepted; return; }
                await WriteJson(http, 200, response.Data);
            }
        }
    }

    /// <summary>2025-03-26 allowed JSON-RPC batches: answered together as a JSON array.</summary>
    private static async Task PostBatchAsync(HttpContext http, McpServer server, JsonElement root)
    {
        if (root.GetArrayLength() == 0)
        {
            await WriteJson(http, 400, McpMessages.Error(null, RpcError.InvalidRequest, "an empty batch"));
            return;
        }
        var found = await SessionOf(http, server);
        if (found is not { } s) return;
        var responses = new List<byte[]>();
        foreach (var item in root.EnumerateArray())
        {
            if (!Classify(item, out var request, out var kind, out var problem))
            {
                responses.Add(McpMessages.Error(IdOf(item), RpcError.InvalidRequest, problem!));
                continue;
            }
            if (kind == MessageKind.Notification) server.Notify(s, request.Method, request.Params);
            else if (kind == MessageKind.Request && await server.HandleAsync(s, request, null, http.RequestAborted) is { } r)
                using (r) responses.Add(r.Data.ToArray());
        }
        if (responses.Count == 0)
        {
            http.Response.StatusCode = StatusCodes.Status202Accepted;
            return;
        }
        var body = new List<byte>(responses.Sum(r => r.Length) + responses.Count + 1) { (byte)'[' };
        for (var i = 0; i < responses.Count; i++)
        {
            if (i > 0) body.Add((byte)',');
            body.AddRange(responses[i]);
        }
        body.Add((byte)']');
        await WriteJson(http, 200, body.ToArray());
    }

    /// <summary>tools/call over SSE: progress notifications as they come, then the result; nothing if cancelled.</summary>
    private static async Task AnswerWithStreamAsync(HttpContext http, McpServer server, McpSession session, McpRequest request)
    {
        var response = http.Response;
        var gate = new SemaphoreSlim(1, 1);
        bool started = false, done = false;
        async ValueTask Send(ReadOnlyMemory<byte> message)
        {
            await gate.WaitAsync(http.RequestAborted);
            try
            {
                if (done) return;
                if (!started)
                {
                    started = true;
                    StartStream(response);
                }
                await WriteEventAsync(response, message, http.RequestAborted);
            }
            finally { gate.Release(); }
        }

        McpPayload? result;
        try
        {
            result = await server.HandleAsync(session, request, m => Send(m), http.RequestAborted);
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            return;
        }
        if (result is null)
        {
            // Cancelled by the client: MCP sends no response; an unstarted answer is just accepted.
            if (!started) response.StatusCode = StatusCodes.Status202Accepted;
            return;
        }
        using (result)
        {
            await gate.WaitAsync(http.RequestAborted);
            if (!started)
            {
                // Nothing preceded the result: plain JSON with a length (cheaper for every client than a stream).
                started = done = true;
                gate.Release();
                await WriteJson(http, 200, result.Data);
                return;
            }
            gate.Release();
            try { await Send(result.Data); }
            catch (OperationCanceledException) { }
            catch (IOException) { }
        }
    }

    private static async Task GetAsync(HttpContext http, McpServer server)
    {
        if (!AcceptsEventStream(http.Request))
        {
            await WriteJson(http, 406, McpMessages.Error(null, RpcError.InvalidRequest, "GET /mcp opens an event stream: Accept: text/event-stream"));
            return;
        }
        var found = await SessionOf(http, server);
        if (found is not { } s) return;
        var reader = s.OpenStream();
        var response = http.Response;
        StartStream(response);
        var keepAlive = TimeSpan.FromSeconds(server.Options.KeepAliveSeconds);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, s.Closed);
        try
        {
            await response.Body.WriteAsync(": stream open\n\n"u8.ToArray(), stop.Token);
            await response.Body.FlushAsync(stop.Token);
            while (!stop.IsCancellationRequested)
            {
                using var wait = CancellationTokenSource.CreateLinkedTokenSource(stop.Token);
                wait.CancelAfter(keepAlive);
                try
                {
                    if (!await reader.WaitToReadAsync(wait.Token)) break;
                    while (reader.TryRead(out var message)) await WriteEventAsync(response, message, stop.Token);
                }
                catch (OperationCanceledException) when (!stop.IsCancellationRequested)
                {
                    await response.Body.WriteAsync(": keep-alive\n\n"u8.ToArray(), stop.Token);
                    await response.Body.FlushAsync(stop.Token);
                }
            }
        }
        catch (OperationCanceledException) { }
        catch (IOException) { }
        finally { s.CloseStream(reader); }
    }

    private static async Task DeleteAsync(HttpContext http, McpServer server)
    {
        var id = http.Request.Headers[SessionHeader].ToString();
        if (id.Length == 0)
        {
            await WriteJson(http, 400, McpMessages.Error(null, RpcError.InvalidRequest, $"DELETE /mcp needs the {SessionHeader} header"));
            return;
        }
        if (!await server.CloseAsync(id))
        {
            await WriteJson(http, 404, McpMessages.Error(null, RpcError.SessionNotFound, "session not found (closed or expired): initialize again"));
            return;
        }
        http.Response.StatusCode = StatusCodes.Status200OK;
    }

    private static async Task<McpSession?> SessionOf(HttpContext http, McpServer server)
    {
        var id = http.Request.Headers[SessionHeader].ToString();
        if (id.Length == 0)
        {
            await WriteJson(http, 400, McpMessages.Error(null, RpcError.InvalidRequest, $"the {SessionHeader} header is required (send initialize first)"));
            return null;
        }
        if (server.Find(id) is not { } s)
        {
            await WriteJson(http, 404, McpMessages.Error(null, RpcError.SessionNotFound, "session not found (closed or expired): initialize again"));
            return null;
        }
        return s;
    }

    private enum MessageKind { Request, Notification, Response }

    private static bool Classify(JsonElement m, out McpRequest request, out MessageKind kind, out string? problem)
    {
        request = default;
        kind = MessageKind.Request;
        problem = null;
        if (m.ValueKind != JsonValueKind.Object) { problem = "a JSON-RPC message must be an object"; return false; }
        if (!m.TryGetProperty("jsonrpc", out var j) || j.ValueKind != JsonValueKind.String || !j.ValueEquals("2.0"u8))
        {
            problem = "jsonrpc must be \"2.0\"";
            return false;
        }
        var hasId = m.TryGetProperty("id", out var id);
        if (hasId && id.ValueKind is not (JsonValueKind.String or JsonValueKind.Number))
        {
            problem = "id must be a string or a number";
            return false;
        }
        if (m.TryGetProperty("method", out var method))
        {
            if (method.ValueKind != JsonValueKind.String) { problem = "method must be a string"; return false; }
            var parameters = m.TryGetProperty("params", out var p) ? p : default;
            if (parameters.ValueKind is not (JsonValueKind.Undefined or JsonValueKind.Object or JsonValueKind.Array))
            {
                problem = "params must be an object";
                return false;
            }
            request = new McpRequest(hasId ? id : default, method.GetString()!, parameters);
            kind = hasId ? MessageKind.Request : MessageKind.Notification;
            return true;
        }
        if (hasId && (m.TryGetProperty("result", out _) || m.TryGetProperty("error", out _)))
        {
            kind = MessageKind.Response;
            return true;
        }
        problem = "not a JSON-RPC request, notification or response";
        return false;
    }

    private static JsonElement? IdOf(JsonElement m) =>
        m.ValueKind == JsonValueKind.Object && m.TryGetProperty("id", out var id) ? id : null;

    private static bool AcceptsEventStream(HttpRequest request)
    {
        foreach (var value in request.Headers.Accept)
            if (value is not null && value.Contains("text/event-stream", StringComparison.OrdinalIgnoreCase)) return true;
        return false;
    }

    private static void StartStream(HttpResponse response)
    {
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache, no-store";
        response.Headers["X-Accel-Buffering"] = "no";
    }

    private static async ValueTask WriteEventAsync(HttpResponse response, ReadOnlyMemory<byte> message, CancellationToken ct)
    {
        // One JSON text never contains a raw newline (Utf8JsonWriter escapes them), so one data: line suffices.
        await response.Body.WriteAsync(EventPrefix, ct);
        await response.Body.WriteAsync(message, ct);
        await response.Body.WriteAsync(EventEnd, ct);
        await response.Body.FlushAsync(ct);
    }

    private static Task WriteJson(HttpContext http, int status, ReadOnlyMemory<byte> body)
    {
        http.Response.StatusCode = status;
        http.Response.ContentType = "application/json";
        http.Response.ContentLength = body.Length;
        return http.Response.Body.WriteAsync(body, http.RequestAborted).AsTask();
    }
}
