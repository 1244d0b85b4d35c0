using Sandbox.Common;

namespace Sandbox.Mcp;

/// <summary>
/// <c>recording://NAME</c>: the files <c>/record</c> writes in SHARED_DIR/recordings (actions JSON, the event
/// journal, the MP4), listed by resources/list and returned by resources/read (JSON as text, video as a blob).
/// Only plain file names in that directory resolve: no paths, no links out of it.
/// </summary>
internal sealed class RecordingResources(string recordingDir, McpOptions options) : IMcpResourceProvider
{
    public const string Scheme = "recording://";

    public IEnumerable<McpResource> List()
    {
        FileInfo[] files;
        try { files = new DirectoryInfo(recordingDir).Exists ? new DirectoryInfo(recordingDir).GetFiles() : []; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { files = []; }
        return files
            .Where(f => Mime(f.Name) is not null && (f.Attributes & FileAttributes.ReparsePoint) == 0)
            .OrderByDescending(f => f.Name, StringComparer.Ordinal)
            .Select(f => new McpResource(Scheme + f.Name, f.Name, null, Describe(f.Name), Mime(f.Name), f.Length));
    }

    public IEnumerable<McpResourceTemplate> Templates =>
        [new McpResourceTemplate(Scheme + "{name}", "recording", "A file of a /record recording in SHARED_DIR/recordings.", null)];

    public bool Owns(string uri) => uri.StartsWith(Scheme, StringComparison.Ordinal);

    public async ValueTask<McpResourceContents> ReadAsync(string uri, CancellationToken ct)
    {
        var name = uri[Scheme.Length..];
        if (name.Length == 0 || name.Contains('/') || name.Contains('\\') || name is "." or ".." || Mime(name) is not { } mime)
            throw SandboxException.NotFound($"resource not found: {uri}");
        var path = Path.Combine(recordingDir, name);
        var info = new FileInfo(path);
        if (!info.Exists || (info.Attributes & FileAttributes.ReparsePoint) != 0) throw SandboxException.NotFound($"resource not found: {uri}");
        if (info.Length > options.MaxResourceBytes)
            throw SandboxException.TooLarge($"{name} is {info.Length} bytes; resources/read returns at most {options.MaxResourceBytes} (SANDBOX_MCP_MAX_RESOURCE_BYTES)");
        try
        {
            if (mime == "video/mp4") return new McpResourceContents(uri, mime, null, await File.ReadAllBytesAsync(path, ct).ConfigureAwait(false));
            return new McpResourceContents(uri, mime, await File.ReadAllTextAsync(path, ct).ConfigureAwait(false), default);
        }
        catch (FileNotFoundException) { throw SandboxException.NotFound($"resource not found: {uri}"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw SandboxException.Unavailable($"cannot read {name}: {e.Message}"); }
    }

    private static string? Mime(string name) =>
        name.EndsWith(".mp4", StringComparison.Ordinal) ? "video/mp4"
        : name.EndsWith(".jsonl", StringComparison.Ordinal) ? "application/x-ndjson"
        : name.EndsWith(".json", StringComparison.Ordinal) ? "application/json"
        : null;

    private static string Describe(string name) =>
        name.StartsWith("actions-", StringComparison.Ordinal) ? "Recorded actions (the old suite's list)."
        : name.StartsWith("events-", StringComparison.Ordinal) ? "The recording's event journal."
        : name.StartsWith("screen-recording-", StringComparison.Ordinal) ? "The screen video."
        : "A recording file.";
}
