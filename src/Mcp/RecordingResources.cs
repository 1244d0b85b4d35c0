using Sandbox.Common;

namespace Sandbox.Mcp;

/// <summary>
/// <c>recording://NAME</c>: the files <c>/record</c> writes in SHARED_DIR/recordings (actions JSON, the event
/// journal, the MP4), listed by resources/list and returned by resources/read (JSON as text, video as a blob).
/// A trajectory folder's files are <c>recording://trajectory-TS/NAME</c> (traj.jsonl is listed; its step PNGs, read
/// as image blobs, are named in it). Only plain file names in that directory or in a <c>trajectory-*</c> folder of
/// it resolve: no other paths, no links out of it.
/// </summary>
internal sealed class RecordingResources(string recordingDir, McpOptions options) : IMcpResourceProvider
{
    public const string Scheme = "recording://";

    public IEnumerable<McpResource> List()
    {
        FileInfo[] files;
        try { files = new DirectoryInfo(recordingDir).Exists ? new DirectoryInfo(recordingDir).GetFiles() : []; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { files = []; }
        var listed = files
            .Where(f => Mime(f.Name) is not null && (f.Attributes & FileAttributes.ReparsePoint) == 0)
            .Select(f => new McpResource(Scheme + f.Name, f.Name, null, Describe(f.Name), Mime(f.Name), f.Length));
        return listed.Concat(Trajectories()).OrderByDescending(r => r.Name, StringComparer.Ordinal);
    }

    /// <summary>Each finished trajectory's traj.jsonl (its lines name the step PNGs, read through the same scheme).</summary>
    private IEnumerable<McpResource> Trajectories()
    {
        DirectoryInfo[] dirs;
        try { dirs = new DirectoryInfo(recordingDir).Exists ? new DirectoryInfo(recordingDir).GetDirectories("trajectory-*") : []; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { dirs = []; }
        foreach (var d in dirs)
        {
            if ((d.Attributes & FileAttributes.ReparsePoint) != 0) continue;
            var lines = new FileInfo(Path.Combine(d.FullName, "traj.jsonl"));
            if (!lines.Exists || (lines.Attributes & FileAttributes.ReparsePoint) != 0) continue;
            var name = d.Name + "/traj.jsonl";
            yield return new McpResource(Scheme + name, name, null,
                "An agent trajectory: one line per step (action, result, screenshot_file), OSWorld's traj.jsonl.", "application/x-ndjson", lines.Length);
        }
    }

    public IEnumerable<McpResourceTemplate> Templates =>
        [new McpResourceTemplate(Scheme + "{name}", "recording", "A file of a /record recording in SHARED_DIR/recordings.", null),
         new McpResourceTemplate(Scheme + "{trajectory}/{name}", "trajectory",
             "A file of a recording's trajectory folder (trajectory-TS): traj.jsonl, step_N_TIMESTAMP.png, recording.mp4.", null)];

    public bool Owns(string uri) => uri.StartsWith(Scheme, StringComparison.Ordinal);

    public async ValueTask<McpResourceContents> ReadAsync(string uri, CancellationToken ct)
    {
        var name = uri[Scheme.Length..];
        var slash = name.IndexOf('/');
        var folder = slash < 0 ? null : name[..slash];
        var file = slash < 0 ? name : name[(slash + 1)..];
        if (!PlainName(file) || (folder is not null && (!PlainName(folder) || !folder.StartsWith("trajectory-", StringComparison.Ordinal)))
            || Mime(file) is not { } mime)
            throw SandboxException.NotFound($"resource not found: {uri}");
        var path = folder is null ? Path.Combine(recordingDir, file) : Path.Combine(recordingDir, folder, file);
        var info = new FileInfo(path);
        if (!info.Exists || (info.Attributes & FileAttributes.ReparsePoint) != 0
            || (folder is not null && (new DirectoryInfo(Path.Combine(recordingDir, folder)).Attributes & FileAttributes.ReparsePoint) != 0))
            throw SandboxException.NotFound($"resource not found: {uri}");
        if (info.Length > options.MaxResourceBytes)
            throw SandboxException.TooLarge($"{name} is {info.Length} bytes; resources/read returns at most {options.MaxResourceBytes} (SANDBOX_MCP_MAX_RESOURCE_BYTES)");
        try
        {
            if (mime is "video/mp4" or "image/png") return new McpResourceContents(uri, mime, null, await File.ReadAllBytesAsync(path, ct).ConfigureAwait(false));
            return new McpResourceContents(uri, mime, await File.ReadAllTextAsync(path, ct).ConfigureAwait(false), default);
        }
        catch (FileNotFoundException) { throw SandboxException.NotFound($"resource not found: {uri}"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw SandboxException.Unavailable($"cannot read {name}: {e.Message}"); }
    }

    private static bool PlainName(string name) =>
        name.Length > 0 && !name.Contains('/') && !name.Contains('\\') && name is not ("." or "..");

    private static string? Mime(string name) =>
        name.EndsWith(".mp4", StringComparison.Ordinal) ? "video/mp4"
        : name.EndsWith(".png", StringComparison.Ordinal) ? "image/png"
        : name.EndsWith(".jsonl", StringComparison.Ordinal) ? "application/x-ndjson"
        : name.EndsWith(".json", StringComparison.Ordinal) ? "application/json"
        : null;

    private static string Describe(string name) =>
        name.StartsWith("actions-", StringComparison.Ordinal) ? "Recorded actions (the old suite's list)."
        : name.StartsWith("events-", StringComparison.Ordinal) ? "The recording's event journal."
        : name.StartsWith("screen-recording-", StringComparison.Ordinal) ? "The screen video."
        : "A recording file.";
}
