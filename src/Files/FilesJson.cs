using System.Text.Json.Serialization;

namespace Sandbox.Files;

/// <summary>One file system entry (lstat: a symlink is described, not followed).</summary>
internal sealed record FileEntry(
    string Name,
    string Path,
    string Type,
    long Size,
    string Mode,
    int Uid,
    int Gid,
    string? Owner,
    string? Group,
    string Mtime,
    string? SymlinkTarget);

internal sealed record FileList(string Path, IReadOnlyList<FileEntry> Entries, bool Truncated);

internal sealed record UploadResult(IReadOnlyList<FileEntry> Files);

internal sealed record MoveRequest(string? From, string? To, bool? Overwrite, bool? Mkdirs);

internal sealed record MkdirRequest(string? Path, bool? Parents, string? Mode);

internal sealed record DeleteResult(string Path, bool Deleted);

/// <summary>A watch event: <c>created</c>, <c>modified</c> (closed after writing), <c>deleted</c>, <c>moved_from</c>/<c>moved_to</c>, <c>overflow</c>.</summary>
internal sealed record WatchEvent(string Type, string Path, bool IsDir, long Seq);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(FileEntry))]
[JsonSerializable(typeof(FileList))]
[JsonSerializable(typeof(UploadResult))]
[JsonSerializable(typeof(MoveRequest))]
[JsonSerializable(typeof(MkdirRequest))]
[JsonSerializable(typeof(DeleteResult))]
[JsonSerializable(typeof(WatchEvent))]
internal sealed partial class FilesJson : JsonSerializerContext;
