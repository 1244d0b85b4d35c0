using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Schema;
using System.Text.Json.Serialization.Metadata;
using Sandbox.Common;

namespace Sandbox.Mcp;

/// <summary>
/// MCP tool annotations (hints for clients). Set them truthfully: a tool that changes nothing is
/// <see cref="ReadOnly"/>; one that may destroy or overwrite state is <see cref="Destructive"/>.
/// </summary>
internal sealed record McpToolAnnotations(bool ReadOnly, bool Destructive, bool Idempotent = false, bool OpenWorld = false)
{
    public static readonly McpToolAnnotations Reads = new(ReadOnly: true, Destructive: false, Idempotent: true);
}

internal delegate ValueTask<McpToolResult> McpToolHandler(McpToolCall call, CancellationToken ct);

/// <summary>
/// One tool of the MCP server: the registration seam. An area's adapter contributes tools through an
/// <see cref="IMcpToolProvider"/> (or <see cref="McpServer.Add(McpTool)"/>); the server lists and calls them and
/// maps exceptions: a <see cref="SandboxException"/> or <see cref="McpToolException"/> becomes a tool error
/// (<c>isError</c>) with its message, anything else a tool error saying what failed, never a crash.
/// </summary>
internal sealed class McpTool
{
    private readonly Lazy<JsonNode> _schema;

    public McpTool(string name, string title, string description, Func<JsonNode> inputSchema, McpToolAnnotations annotations, McpToolHandler handler)
    {
        Name = name;
        Title = title;
        Description = description;
        Annotations = annotations;
        Handler = handler;
        _schema = new Lazy<JsonNode>(inputSchema);
    }

    public string Name { get; }
    public string Title { get; }
    public string Description { get; }
    public McpToolAnnotations Annotations { get; }
    public McpToolHandler Handler { get; }
    /// <summary>The input JSON Schema (an object schema), built on the first tools/list.</summary>
    public JsonNode InputSchema => _schema.Value;

    /// <summary>
    /// A tool whose arguments are a contract type of the REST API: the input schema is exported from the
    /// type's source-generated metadata (so it cannot drift from the endpoint), and the arguments are
    /// deserialized with it; a shape error is a tool error naming the problem.
    /// <code>
    /// server.Add(McpTool.Create("run_command", "Run a command", "...", ProcessesJson.Default.RunRequest, new(ReadOnly: false, Destructive: true),
    ///     async (args, call, ct) => McpToolResult.Text(Describe(await processes.RunAsync(args, ct)))));
    /// </code>
    /// </summary>
    public static McpTool Create<TArgs>(string name, string title, string description, JsonTypeInfo<TArgs> arguments,
        McpToolAnnotations annotations, Func<TArgs, McpToolCall, CancellationToken, ValueTask<McpToolResult>> run) =>
        new(name, title, description, () => McpSchemas.FromType(arguments), annotations, async (call, ct) =>
        {
            TArgs? args;
            try
            {
                args = call.Arguments.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null
                    ? JsonSerializer.Deserialize("{}", arguments)
                    : call.Arguments.Deserialize(arguments);
            }
            catch (JsonException e) { throw new McpToolException($"arguments: {e.Message}"); }
            if (args is null) throw new McpToolException("arguments: an object is required");
            return await run(args, call, ct).ConfigureAwait(false);
        });
}

/// <summary>An area's tools, added to the server in one line at wiring time.</summary>
internal interface IMcpToolProvider
{
    IEnumerable<McpTool> Tools { get; }
}

/// <summary>A tool failed in a way the caller should read (becomes <c>isError: true</c> with this message).</summary>
internal sealed class McpToolException(string message) : Exception(message);

/// <summary>What a tool call receives: its arguments, its session (per-session state) and a progress reporter.</summary>
internal sealed class McpToolCall(McpSession session, JsonElement arguments, Func<double, double?, string?, ValueTask> reporter)
{
    public McpSession Session { get; } = session;
    /// <summary>The <c>arguments</c> object as sent (Undefined when absent).</summary>
    public JsonElement Arguments { get; } = arguments;

    /// <summary>Sends <c>notifications/progress</c> when the caller asked for it (a progressToken); otherwise nothing.</summary>
    public ValueTask ReportProgressAsync(double progress, double? total = null, string? message = null) => reporter(progress, total, message);
}

/// <summary>One content block of a tool result or a resource.</summary>
internal abstract record McpContent;
internal sealed record McpText(string Text) : McpContent;
/// <summary>Image bytes (PNG or JPEG), written to the wire as base64 without an intermediate string.</summary>
internal sealed record McpImage(ReadOnlyMemory<byte> Data, string MimeType) : McpContent;
/// <summary>Image data that is already base64 (a kernel's display data, an action's inline screenshot).</summary>
internal sealed record McpImageBase64(string Data, string MimeType) : McpContent;
/// <summary>An embedded resource with binary contents (<c>{"type":"resource","resource":{uri,mimeType,blob}}</c>), e.g. a file that is not text.</summary>
internal sealed record McpBlob(ReadOnlyMemory<byte> Data, string Uri, string MimeType) : McpContent;

internal sealed class McpToolResult : IDisposable
{
    private List<IDisposable>? _owned;

    public List<McpContent> Content { get; } = [];
    public bool IsError { get; init; }

    public McpToolResult Add(McpContent c) { Content.Add(c); return this; }

    /// <summary>Keeps <paramref name="d"/> (e.g. the buffer an image lives in) until the result is written.</summary>
    public McpToolResult Own(IDisposable d) { (_owned ??= []).Add(d); return this; }

    /// <summary>About how many bytes the result takes on the wire (to size the buffer once).</summary>
    public int SizeHint() => 256 + Content.Sum(c => c switch
    {
        McpText t => t.Text.Length * 2,
        McpImage i => (i.Data.Length + 2) / 3 * 4 + 64,
        McpImageBase64 b => b.Data.Length + 64,
        McpBlob r => (r.Data.Length + 2) / 3 * 4 + r.Uri.Length * 2 + 96,
        _ => 64,
    });

    public void Dispose()
    {
        if (_owned is null) return;
        foreach (var d in _owned) d.Dispose();
        _owned = null;
    }

    public static McpToolResult Text(string text) => new McpToolResult().Add(new McpText(text));
    public static McpToolResult Error(string message) => new McpToolResult { IsError = true }.Add(new McpText(message));
}

/// <summary>JSON Schemas for tool inputs, exported from source-generated contract metadata.</summary>
internal static class McpSchemas
{
    private static readonly JsonSchemaExporterOptions Exporter = new()
    {
        TreatNullObliviousAsNonNullable = true,
        // [Description] on a contract property (or type) becomes the schema's description, for the model to read.
        TransformSchemaNode = (ctx, schema) =>
        {
            var provider = ctx.PropertyInfo?.AttributeProvider ?? (ctx.Path.IsEmpty ? ctx.TypeInfo.Type : null);
            if (schema is JsonObject o && provider?.GetCustomAttributes(typeof(System.ComponentModel.DescriptionAttribute), inherit: false)
                    is [System.ComponentModel.DescriptionAttribute d, ..])
                o["description"] = d.Description;
            return schema;
        },
    };

    public static JsonNode FromType(JsonTypeInfo type)
    {
        var node = type.GetJsonSchemaAsNode(Exporter);
        if (node is JsonObject o)
        {
            o.Remove("$schema");
            // MCP wants an object schema at the top; a nullable record exports ["object","null"].
            o["type"] = "object";
        }
        return node;
    }
}
