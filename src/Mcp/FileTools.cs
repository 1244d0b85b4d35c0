using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Sandbox.Api;
using Sandbox.Common;
using Sandbox.Files;

namespace Sandbox.Mcp;

/// <summary>
/// <c>read_file</c>, <c>write_file</c> and <c>list_directory</c> over <see cref="FileService"/>: the parameters
/// (and their schema) are those of <c>GET /files</c>, <c>PUT /files</c> and <c>GET /files/list</c>, the paths
/// resolve the same way (~, relative to home), writes are atomic with the same modes and upload limit. A file
/// read as text must be UTF-8; other bytes come back as an embedded resource blob (base64), or as base64 text
/// with <c>encoding: "base64"</c>. Reads are bounded by SANDBOX_MCP_MAX_RESOURCE_BYTES.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
internal sealed class FileTools(FileService files, McpOptions options) : IMcpToolProvider
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private static JsonObject Encoding(string what) => new()
    {
        ["type"] = "string",
        ["enum"] = new JsonArray("utf-8", "base64"),
        ["default"] = "utf-8",
        ["description"] = what,
    };

    private static ApiParameter[] Parameters(string method, string path) =>
        OpenApiRoutes.All.First(r => r.Method == method && r.Path == path).Parameters;

    private static JsonObject Schema(string method, string path, Dictionary<string, JsonNode>? extra, params string[] required)
    {
        var schema = McpContracts.FromParameters(Parameters(method, path), [], null, extra);
        schema["required"] = new JsonArray(required.Select(r => (JsonNode?)JsonValue.Create(r)).ToArray());
        return schema;
    }

    private static readonly string[] ReadKnown = ["path", "encoding"];
    private static readonly string[] WriteKnown = ["path", "mkdirs", "mode", "content", "encoding"];
    private static readonly string[] ListKnown = ["path", "depth"];

    public IEnumerable<McpTool> Tools =>
    [
        new McpTool("read_file", "Read a file",
            "Reads a file in the VM (path absolute, ~ or relative to the home directory). UTF-8 text comes back as text; other bytes " +
            "as an embedded resource blob, or as base64 text with encoding=base64.",
            () => Schema("GET", "/files", new() { ["encoding"] = Encoding("utf-8: the file as text (other bytes come as a base64 blob); base64: the bytes as base64 text.") }, "path"),
            McpToolAnnotations.Reads,
            (call, ct) => ReadAsync(Args(call, ReadKnown), ct)),
        new McpTool("write_file", "Write a file",
            "Writes `content` to a file in the VM atomically (temp file, fsync, rename), replacing it if it exists. New files get mode 0600 " +
            "unless `mode` says otherwise; mkdirs=true creates missing directories. encoding=base64 writes arbitrary bytes.",
            () => Schema("PUT", "/files", new()
            {
                ["content"] = new JsonObject { ["type"] = "string", ["description"] = "The file's new content (text, or base64 with encoding=base64)." },
                ["encoding"] = Encoding("How `content` is encoded."),
            }, "path", "content"),
            new McpToolAnnotations(ReadOnly: false, Destructive: true, Idempotent: true, OpenWorld: false),
            (call, ct) => WriteAsync(Args(call, WriteKnown), ct)),
        new McpTool("list_directory", "List a directory",
            "Lists a directory in the VM: one entry per line (type, size, mode, mtime, path), sorted by name, subdirectories entered up to `depth`.",
            () => Schema("GET", "/files/list", null, "path"),
            McpToolAnnotations.Reads,
            (call, _) => ValueTask.FromResult(List(Args(call, ListKnown)))),
    ];

    private static Microsoft.AspNetCore.Http.IQueryCollection Args(McpToolCall call, string[] known) =>
        McpContracts.AsQuery(call.Arguments, known);

    private static string? Str(Microsoft.AspNetCore.Http.IQueryCollection q, string key) =>
        q.TryGetValue(key, out var v) && v.Count > 0 && !string.IsNullOrEmpty(v[0]) ? v[0] : null;

    private static bool Base64(Microsoft.AspNetCore.Http.IQueryCollection q) => Str(q, "encoding") switch
    {
        null or "utf-8" or "utf8" or "text" => false,
        "base64" => true,
        _ => throw SandboxException.BadField("encoding", "must be utf-8 or base64"),
    };

    private static bool Flag(Microsoft.AspNetCore.Http.IQueryCollection q, string key) => Str(q, key) switch
    {
        null or "false" => false,
        "true" => true,
        _ => throw SandboxException.BadField(key, $"{key} must be true or false"),
    };

    private async ValueTask<McpToolResult> ReadAsync(Microsoft.AspNetCore.Http.IQueryCollection q, CancellationToken ct)
    {
        var base64 = Base64(q);
        var path = FileService.Resolve(Str(q, "path"));
        var file = files.ReadableFile(path);
        if (file.Length > options.MaxResourceBytes)
            throw SandboxException.TooLarge($"{path} is {file.Length} bytes, more than a tool answer may carry ({options.MaxResourceBytes}, SANDBOX_MCP_MAX_RESOURCE_BYTES); download it with GET /files");
        byte[] bytes;
        try
        {
            // Bounded whatever the file claims (a device or a growing file reads past its length).
            var stream = new FileStream(file.FullName, new FileStreamOptions { Mode = FileMode.Open, Access = FileAccess.Read, Share = FileShare.ReadWrite, BufferSize = 0 });
            await using (stream.ConfigureAwait(false))
            {
                using var into = new MemoryStream((int)Math.Min(file.Length, options.MaxResourceBytes) + 1);
                var chunk = new byte[64 * 1024];
                int n;
                while ((n = await stream.ReadAsync(chunk, ct).ConfigureAwait(false)) > 0)
                {
                    if (into.Length + n > options.MaxResourceBytes)
                        throw SandboxException.TooLarge($"{path} is larger than a tool answer may carry ({options.MaxResourceBytes} bytes, SANDBOX_MCP_MAX_RESOURCE_BYTES); download it with GET /files");
                    into.Write(chunk, 0, n);
                }
                bytes = into.ToArray();
            }
        }
        catch (UnauthorizedAccessException) { throw SandboxException.Forbidden($"{path}: permission denied"); }
        catch (IOException e) { throw new McpToolException($"{path}: {e.Message}"); }
        if (base64) return McpToolResult.Text(Convert.ToBase64String(bytes));
        try { return McpToolResult.Text(StrictUtf8.GetString(bytes)); }
        catch (DecoderFallbackException)
        {
            return new McpToolResult()
                .Add(new McpText($"{path}: {bytes.Length} bytes, not UTF-8 text; the bytes are the embedded resource (base64)."))
                .Add(new McpBlob(bytes, new Uri("file://" + path).AbsoluteUri, "application/octet-stream"));
        }
    }

    private async ValueTask<McpToolResult> WriteAsync(Microsoft.AspNetCore.Http.IQueryCollection q, CancellationToken ct)
    {
        var base64 = Base64(q);
        var path = FileService.Resolve(Str(q, "path"));
        var content = q.TryGetValue("content", out var c) && c.Count > 0 ? c[0] ?? "" : throw SandboxException.BadField("content", "required");
        byte[] bytes;
        if (base64)
        {
            try { bytes = Convert.FromBase64String(content); }
            catch (FormatException) { throw SandboxException.BadField("content", "content is not valid base64"); }
        }
        else bytes = System.Text.Encoding.UTF8.GetBytes(content);
        var mode = Str(q, "mode") is { } m ? FileService.ParseMode(m, "mode") : (UnixFileMode?)null;
        using var body = new MemoryStream(bytes, writable: false);
        var entry = await files.WriteAsync(path, body, Flag(q, "mkdirs"), mode, ct).ConfigureAwait(false);
        return McpToolResult.Text($"wrote {bytes.Length} bytes to {entry.Path}\n" + JsonSerializer.Serialize(entry, FilesJson.Default.FileEntry));
    }

    private McpToolResult List(Microsoft.AspNetCore.Http.IQueryCollection q)
    {
        var depthText = Str(q, "depth");
        var depth = depthText is null ? 1
            : int.TryParse(depthText, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var d) ? d
            : throw SandboxException.BadField("depth", "must be an integer");
        var list = files.List(FileService.Resolve(Str(q, "path")), depth);
        var sb = new StringBuilder();
        sb.Append(list.Path).Append(": ").Append(list.Entries.Count).Append(list.Entries.Count == 1 ? " entry" : " entries");
        if (list.Truncated) sb.Append(" (truncated at SANDBOX_FILES_MAX_LIST_ENTRIES)");
        sb.Append('\n');
        foreach (var e in list.Entries)
        {
            sb.Append(e.Type).Append('\t').Append(e.Size).Append('\t').Append(e.Mode).Append('\t').Append(e.Mtime).Append('\t').Append(e.Path);
            if (e.Type == "directory") sb.Append('/');
            if (e.SymlinkTarget is { } t) sb.Append(" -> ").Append(t);
            sb.Append('\n');
        }
        return McpToolResult.Text(sb.ToString());
    }
}
