using System.Text.Json;
using System.Text.Json.Serialization;

namespace Sandbox.OsWorld;

/// <summary><c>/execute</c>, <c>/setup/execute</c>, <c>/execute_with_verification</c>, <c>/setup/launch</c>:
/// <c>command</c> is a list of arguments or a string (split as shlex does unless <c>shell</c>).</summary>
internal sealed record CommandRequest
{
    public JsonElement? Command { get; init; }
    public bool? Shell { get; init; }
    public Verification? Verification { get; init; }
    public double? MaxWaitTime { get; init; }
    public double? CheckInterval { get; init; }
}

internal sealed record Verification
{
    public string? WindowExists { get; init; }
    public string? CommandSuccess { get; init; }
}

internal sealed record CommandAnswer(string Status, string Output, string Error, int Returncode);

internal sealed record VerifiedAnswer(string Status, string Output, string Error, int Returncode, string Verification, double WaitTime);

/// <summary>OSWorld's failure body of its JSON routes.</summary>
internal sealed record StatusMessage(string Status, string Message);

internal sealed record CodeRequest(string? Code);

internal sealed record PythonAnswer(string Status, string Message, bool NeedMore, string? Output, string? Error,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? ReturnCode);

internal sealed record ScriptRequest
{
    public string? Script { get; init; }
    public double? Timeout { get; init; }
    public string? WorkingDir { get; init; }
}

internal sealed record ScriptAnswer(string Status, string Output, string Error, int Returncode);

internal sealed record TerminalAnswer(string? Output, string Status);

internal sealed record SizeAnswer(int Width, int Height);

internal sealed record DesktopPathAnswer(string DesktopPath);

/// <summary>OSWorld's <c>{"error": "..."}</c> bodies.</summary>
internal sealed record ErrorAnswer(string Error);

internal sealed record PathRequest(string? Path);

internal sealed record DownloadRequest(string? Url, string? Path);

internal sealed record WindowRequest
{
    public string? WindowName { get; init; }
    public bool? Strict { get; init; }
    public bool? ByClass { get; init; }
}

/// <summary>One node of /list_directory's tree: a directory with children, a file, or an unreadable directory's error.</summary>
internal sealed record DirectoryNode
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Type { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Name { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public List<DirectoryNode>? Children { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Error { get; init; }
}

internal sealed record DirectoryTreeAnswer(DirectoryNode DirectoryTree);

/// <summary>What a journaled step was: the route and the body the client sent.</summary>
internal sealed record StepAction(string Route, JsonElement Request);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(CommandRequest))]
[JsonSerializable(typeof(CommandAnswer))]
[JsonSerializable(typeof(VerifiedAnswer))]
[JsonSerializable(typeof(StatusMessage))]
[JsonSerializable(typeof(CodeRequest))]
[JsonSerializable(typeof(PythonAnswer))]
[JsonSerializable(typeof(ScriptRequest))]
[JsonSerializable(typeof(ScriptAnswer))]
[JsonSerializable(typeof(TerminalAnswer))]
[JsonSerializable(typeof(SizeAnswer))]
[JsonSerializable(typeof(DesktopPathAnswer))]
[JsonSerializable(typeof(ErrorAnswer))]
[JsonSerializable(typeof(PathRequest))]
[JsonSerializable(typeof(DownloadRequest))]
[JsonSerializable(typeof(WindowRequest))]
[JsonSerializable(typeof(DirectoryTreeAnswer))]
[JsonSerializable(typeof(StepAction))]
[JsonSerializable(typeof(int[]))]
[JsonSerializable(typeof(JsonElement))]
[JsonSerializable(typeof(string))]
internal sealed partial class OsWorldJson : JsonSerializerContext;
