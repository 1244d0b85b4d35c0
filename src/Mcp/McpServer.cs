using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Sandbox.Common;

namespace Sandbox.Mcp;

/// <summary>A resource provider (screen, recordings …): lists its resources and reads the URIs it owns.</summary>
internal interface IMcpResourceProvider
{
    IEnumerable<McpResource> List();
    IEnumerable<McpResourceTemplate> Templates { get; }
    bool Owns(string uri);
    /// <summary>The resource's contents; throws <see cref="McpProtocolException"/> (ResourceNotFound) when absent.</summary>
    ValueTask<McpResourceContents> ReadAsync(string uri, CancellationToken ct);
}

/// <summary>One resources/read content: text or bytes (sent as base64 <c>blob</c>).</summary>
internal sealed record McpResourceContents(string Uri, string MimeType, string? Text, ReadOnlyMemory<byte> Blob);

/// <summary>One JSON-RPC request as received.</summary>
internal readonly record struct McpRequest(JsonElement Id, string Method, JsonElement Params)
{
    /// <summary>The id as a key for cancellation (its JSON text: 1 and "1" differ, as in JSON-RPC).</summary>
    public string Key => Id.GetRawText();
}

/// <summary>
/// The protocol core, independent of the transport: sessions, initialize/version negotiation, the tool
/// table, resources, cancellation and progress. <see cref="McpApi"/> carries it over Streamable HTTP.
/// Tools and resources are adapters over the area services, added at wiring time.
/// </summary>
internal sealed class McpServer : IAsyncDisposable
{
    /// <summary>Newest first: the current revision and the ones before it that we still speak.</summary>
    public static readonly string[] SupportedVersions = ["2025-11-25", "2025-06-18", "2025-03-26"];

    private readonly McpOptions _options;
    private readonly McpImplementation _info;
    private readonly ILogger _log;
    // Providers are enumerated on the first tools/list or tools/call, not at start-up.
    private readonly List<Func<IEnumerable<McpTool>>> _toolSources = [];
    private List<McpTool>? _tools;
    private Dictionary<string, McpTool>? _byName;
    private readonly Lock _toolsLock = new();
    private readonly List<IMcpResourceProvider> _resources = [];
    private readonly ConcurrentDictionary<string, McpSession> _sessions = new(StringComparer.Ordinal);
    private readonly Timer _sweep;

    public McpServer(McpOptions options, string version, ILogger log)
    {
        _options = options;
        _info = new McpImplementation("sandbox", version, "Sandbox appliance");
        _log = log;
        var period = TimeSpan.FromSeconds(Math.Clamp(options.SessionIdleSeconds / 4, 5, 60));
        _sweep = new Timer(_ => _ = SweepAsync(), null, period, period);
    }

    public McpOptions Options => _options;
    public IReadOnlyList<McpTool> Tools => Table().List;
    public int SessionCount => _sessions.Count;

    public McpServer Add(McpTool tool)
    {
        lock (_toolsLock) { _toolSources.Add(() => [tool]); _tools = null; }
        return this;
    }

    public McpServer Add(IMcpToolProvider provider)
    {
        lock (_toolsLock) { _toolSources.Add(() => provider.Tools); _tools = null; }
        return this;
    }

    private (List<McpTool> List, Dictionary<string, McpTool> ByName) Table()
    {
        lock (_toolsLock)
        {
            if (_tools is null || _byName is null)
            {
                var list = new List<McpTool>();
                var byName = new Dictionary<string, McpTool>(StringComparer.Ordinal);
                foreach (var source in _toolSources)
                foreach (var t in source())
                {
                    if (!byName.TryAdd(t.Name, t)) throw new InvalidOperationException($"MCP tool {t.Name} is added twice");
                    list.Add(t);
                }
                (_tools, _byName) = (list, byName);
            }
            return (_tools, _byName);
        }
    }

    public McpServer Add(IMcpResourceProvider provider)
    {
        _resources.Add(provider);
        return this;
    }

    public static bool IsSupported(string version) => Array.IndexOf(SupportedVersions, version) >= 0;

    public McpSession? Find(string id)
    {
        if (!_sessions.TryGetValue(id, out var s)) return null;
        s.Touch();
        return s;
    }

    /// <summary>initialize: negotiates the revision (the client's if we speak it, else our newest) and opens a session.</summary>
    public (McpSession Session, byte[] Response) Initialize(McpRequest request)
    {
        var p = request.Params;
        if (p.ValueKind != JsonValueKind.Object) throw new McpProtocolException(RpcError.InvalidParams, "initialize: params must be an object");
        var asked = p.TryGetProperty("protocolVersion", out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : null;
        if (asked is null) throw new McpProtocolException(RpcError.InvalidParams, "initialize: params.protocolVersion (a string) is required");
        var version = IsSupported(asked) ? asked : SupportedVersions[0];
        string? client = p.TryGetProperty("clientInfo", out var ci) && ci.ValueKind == JsonValueKind.Object
            && ci.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString() : null;

        if (_sessions.Count >= _options.MaxSessions)
            throw new McpProtocolException(RpcError.Internal, $"too many MCP sessions ({_options.MaxSessions}, SANDBOX_MCP_MAX_SESSIONS); close one with DELETE /mcp");
        var session = new McpSession(NewId(), version, client);
        _sessions[session.Id] = session;
        _log.LogInformation("MCP session {Session} opened by {Client} ({Version})", session.Id, client ?? "a client", version);
        var result = new McpInitializeResult(version,
            new McpCapabilities(new McpListChanged(false), new McpResourceCapability(false, false)),
            _info,
            "Tools act on this VM's X display and run Python in a kernel kept for the session. " +
            "Coordinates are screen pixels unless a tool's max_width/max_height says otherwise; screenshot reports the scale.");
        return (session, McpMessages.Result(request.Id, result, McpJson.Default.McpInitializeResult));
    }

    public async Task<bool> CloseAsync(string id)
    {
        if (!_sessions.TryRemove(id, out var s)) return false;
        await s.DisposeAsync().ConfigureAwait(false);
        _log.LogInformation("MCP session {Session} closed", id);
        return true;
    }

    /// <summary>A notification from the client: cancellation is acted on; others (initialized …) are noted.</summary>
    public void Notify(McpSession session, string method, JsonElement parameters)
    {
        switch (method)
        {
            case "notifications/initialized":
                session.Initialized = true;
                break;
            case "notifications/cancelled":
                if (parameters.ValueKind == JsonValueKind.Object && parameters.TryGetProperty("requestId", out var rid)
                    && rid.ValueKind is JsonValueKind.String or JsonValueKind.Number)
                    session.Cancel(rid.GetRawText());
                break;
        }
    }

    /// <summary>
    /// Answers one request. <paramref name="notify"/> carries progress notifications on the request's own
    /// stream (null when the transport answers with plain JSON). Returns null when the request was
    /// cancelled by the client (MCP: no response is sent for it).
    /// </summary>
    public async Task<McpPayload?> HandleAsync(McpSession session, McpRequest request, Func<byte[], ValueTask>? notify, CancellationToken aborted)
    {
        var cts = session.Begin(request.Key, aborted);
        try
        {
            return request.Method switch
            {
                "ping" => (McpPayload)McpMessages.Result(request.Id, new McpEmpty(), McpJson.Default.McpEmpty),
                "initialize" => throw new McpProtocolException(RpcError.InvalidRequest, "initialize: this session is already initialized"),
                "tools/list" => McpMessages.Result(request.Id, WriteToolList),
                "tools/call" => await CallToolAsync(session, request, notify, cts.Token).ConfigureAwait(false),
                "resources/list" => McpMessages.Result(request.Id,
                    new McpResourceList(_resources.SelectMany(r => r.List()).ToArray()), McpJson.Default.McpResourceList),
                "resources/templates/list" => McpMessages.Result(request.Id,
                    new McpResourceTemplateList(_resources.SelectMany(r => r.Templates).ToArray()), McpJson.Default.McpResourceTemplateList),
                "resources/read" => await ReadResourceAsync(request, cts.Token).ConfigureAwait(false),
                "prompts/list" => McpMessages.Result(request.Id, w => { w.WriteStartObject(); w.WriteStartArray("prompts"u8); w.WriteEndArray(); w.WriteEndObject(); }),
                "logging/setLevel" => McpMessages.Result(request.Id, new McpEmpty(), McpJson.Default.McpEmpty),
                _ => throw new McpProtocolException(RpcError.MethodNotFound, $"method not found: {request.Method}"),
            };
        }
        catch (McpProtocolException e)
        {
            return McpMessages.Error(request.Id, e.Code, e.Message);
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            return null;
        }
        catch (Exception e)
        {
            _log.LogError(e, "MCP {Method} failed", request.Method);
            return McpMessages.Error(request.Id, RpcError.Internal, $"{request.Method} failed: {e.GetType().Name}: {e.Message}");
        }
        finally
        {
            session.End(request.Key, cts);
        }
    }

    private void WriteToolList(Utf8JsonWriter w)
    {
        w.WriteStartObject();
        w.WriteStartArray("tools"u8);
        foreach (var t in Table().List)
        {
            w.WriteStartObject();
            w.WriteString("name"u8, t.Name);
            w.WriteString("title"u8, t.Title);
            w.WriteString("description"u8, t.Description);
            w.WritePropertyName("inputSchema"u8);
            t.InputSchema.WriteTo(w);
            w.WriteStartObject("annotations"u8);
            w.WriteString("title"u8, t.Title);
            w.WriteBoolean("readOnlyHint"u8, t.Annotations.ReadOnly);
            w.WriteBoolean("destructiveHint"u8, t.Annotations.Destructive);
            w.WriteBoolean("idempotentHint"u8, t.Annotations.Idempotent);
            w.WriteBoolean("openWorldHint"u8, t.Annotations.OpenWorld);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private async Task<McpPayload> CallToolAsync(McpSession session, McpRequest request, Func<byte[], ValueTask>? notify, CancellationToken ct)
    {
        var p = request.Params;
        if (p.ValueKind != JsonValueKind.Object || !p.TryGetProperty("name", out var nameElement) || nameElement.ValueKind != JsonValueKind.String)
            throw new McpProtocolException(RpcError.InvalidParams, "tools/call: params.name (a string) is required");
        var name = nameElement.GetString()!;
        if (!Table().ByName.TryGetValue(name, out var tool))
            throw new McpProtocolException(RpcError.InvalidParams, $"unknown tool: {name}");
        var arguments = p.TryGetProperty("arguments", out var a) ? a : default;
        if (arguments.ValueKind is not (JsonValueKind.Object or JsonValueKind.Undefined or JsonValueKind.Null))
            throw new McpProtocolException(RpcError.InvalidParams, "tools/call: params.arguments must be an object");

        JsonElement? token = p.TryGetProperty("_meta", out var meta) && meta.ValueKind == JsonValueKind.Object
            && meta.TryGetProperty("progressToken", out var pt) && pt.ValueKind is JsonValueKind.String or JsonValueKind.Number ? pt : null;
        Func<double, double?, string?, ValueTask> progress = token is { } tk && notify is not null
            ? (value, total, message) => notify(McpMessages.Notification("notifications/progress", w =>
            {
                w.WriteStartObject();
                w.WritePropertyName("progressToken"u8);
                tk.WriteTo(w);
                w.WriteNumber("progress"u8, value);
                if (total is { } t) w.WriteNumber("total"u8, t);
                if (message is not null) w.WriteString("message"u8, message);
                w.WriteEndObject();
            }))
            : static (_, _, _) => ValueTask.CompletedTask;

        McpToolResult result;
        try
        {
            result = await tool.Handler(new McpToolCall(session, arguments, progress), ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            throw;
        }
        catch (McpToolException e)
        {
            result = McpToolResult.Error(e.Message);
        }
        catch (SandboxException e)
        {
            result = McpToolResult.Error(ErrorText(e));
        }
        catch (Exception e)
        {
            _log.LogError(e, "MCP tool {Tool} failed", name);
            result = McpToolResult.Error($"{name} failed: {e.GetType().Name}: {e.Message}");
        }
        using (result)
        {
            var size = result.SizeHint();
            return size > 64 << 10
                ? McpMessages.LargeResult(request.Id, w => McpMessages.WriteToolResult(w, result))
                : McpMessages.Result(request.Id, w => McpMessages.WriteToolResult(w, result), size);
        }
    }

    /// <summary>The same kinds the REST port maps to statuses, as words a model can act on.</summary>
    public static string ErrorText(SandboxException e) => e.Kind switch
    {
        ErrorKind.BadRequest => $"invalid arguments: {e.Message}",
        ErrorKind.Unavailable => $"unavailable: {e.Message}",
        ErrorKind.NotFound => $"not found: {e.Message}",
        ErrorKind.StorageFull => $"storage full: {e.Message}",
        ErrorKind.Timeout => $"timed out: {e.Message}",
        ErrorKind.Busy => $"busy: {e.Message}",
        ErrorKind.Forbidden => $"forbidden: {e.Message}",
        ErrorKind.Conflict => $"conflict: {e.Message}",
        ErrorKind.TooLarge => $"too large: {e.Message}",
        _ => e.Message,
    };

    private async Task<McpPayload> ReadResourceAsync(McpRequest request, CancellationToken ct)
    {
        var p = request.Params;
        if (p.ValueKind != JsonValueKind.Object || !p.TryGetProperty("uri", out var u) || u.ValueKind != JsonValueKind.String)
            throw new McpProtocolException(RpcError.InvalidParams, "resources/read: params.uri (a string) is required");
        var uri = u.GetString()!;
        var provider = _resources.FirstOrDefault(r => r.Owns(uri))
            ?? throw new McpProtocolException(RpcError.ResourceNotFound, $"resource not found: {uri}");
        McpResourceContents c;
        try { c = await provider.ReadAsync(uri, ct).ConfigureAwait(false); }
        catch (SandboxException e) when (e.Kind == ErrorKind.NotFound) { throw new McpProtocolException(RpcError.ResourceNotFound, e.Message); }
        catch (SandboxException e) { throw new McpProtocolException(RpcError.Internal, ErrorText(e)); }
        return McpMessages.LargeResult(request.Id, w =>
        {
            w.WriteStartObject();
            w.WriteStartArray("contents"u8);
            w.WriteStartObject();
            w.WriteString("uri"u8, c.Uri);
            w.WriteString("mimeType"u8, c.MimeType);
            if (c.Text is not null) w.WriteString("text"u8, c.Text);
            else w.WriteBase64String("blob"u8, c.Blob.Span);
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteEndObject();
        });
    }

    private async Task SweepAsync()
    {
        var limit = _options.SessionIdleSeconds * 1000L;
        foreach (var (id, s) in _sessions)
            if (s.IdleMs > limit && s.InFlight == 0)
            {
                _log.LogInformation("MCP session {Session} idle for {Seconds} s: closing it", id, s.IdleMs / 1000);
                await CloseAsync(id).ConfigureAwait(false);
            }
    }

    private static string NewId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    public async ValueTask DisposeAsync()
    {
        await _sweep.DisposeAsync().ConfigureAwait(false);
        foreach (var id in _sessions.Keys.ToArray()) await CloseAsync(id).ConfigureAwait(false);
    }
}
