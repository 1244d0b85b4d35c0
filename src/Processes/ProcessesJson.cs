using System.Text.Json.Serialization;

namespace Sandbox.Processes;

/// <summary>What to run: <c>command</c> through the shell, or <c>argv</c> as is.</summary>
internal sealed record RunRequest
{
    public string? Command { get; init; }
    public bool? Shell { get; init; }
    public List<string>? Argv { get; init; }
    public string? Cwd { get; init; }
    /// <summary>Added to (or replacing) the appliance's environment; a null value removes the variable.</summary>
    public Dictionary<string, string?>? Env { get; init; }
    public string? Stdin { get; init; }
    /// <summary><c>utf-8</c> (default) or <c>base64</c>.</summary>
    public string? StdinEncoding { get; init; }
    public double? TimeoutS { get; init; }
    public long? MaxOutputBytes { get; init; }
    /// <summary>Background processes only: a label for listing.</summary>
    public string? Tag { get; init; }
    /// <summary>Background processes only: run on a pseudo-terminal of this size.</summary>
    public PtySize? Pty { get; init; }
}

internal sealed record PtySize(int Cols, int Rows);

/// <summary>The answer of /process/run. Output that is not UTF-8 comes as base64 with its encoding saying so.</summary>
internal sealed record RunResult(
    int? ExitCode,
    int? Signal,
    string Stdout,
    string Stderr,
    string StdoutEncoding,
    string StderrEncoding,
    long DurationMs,
    bool TimedOut,
    bool Truncated,
    int Pid);

internal sealed record SignalRequest(string? Signal);

internal sealed record StdinRequest
{
    public string? Data { get; init; }
    public string? Encoding { get; init; }
    /// <summary>Close the process's stdin after writing (EOF); PTYs get Ctrl-D instead.</summary>
    public bool? Eof { get; init; }
}

internal sealed record ResizeRequest(int Cols, int Rows);

internal sealed record ProcessInfo(
    string Id,
    string? Tag,
    int Pid,
    IReadOnlyList<string> Argv,
    string State,
    int? ExitCode,
    int? Signal,
    bool Pty,
    string StartedAt,
    string? EndedAt,
    long OutputSeq);

internal sealed record ProcessList(IReadOnlyList<ProcessInfo> Processes);

/// <summary>One event of a process's stream: output (<c>stdout</c>/<c>stderr</c>/<c>pty</c>), or <c>exit</c> last.</summary>
internal sealed record StreamEvent(
    long Seq,
    string Type,
    string? Data,
    string? Encoding,
    int? ExitCode,
    int? Signal);

/// <summary>A message from a WebSocket client: <c>{"type":"stdin","data":"..."}</c>, <c>{"type":"resize","cols","rows"}</c>,
/// <c>{"type":"signal","signal":"INT"}</c>, <c>{"type":"eof"}</c>.</summary>
internal sealed record ClientMessage
{
    public string? Type { get; init; }
    public string? Data { get; init; }
    public string? Encoding { get; init; }
    public int? Cols { get; init; }
    public int? Rows { get; init; }
    public string? Signal { get; init; }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(RunRequest))]
[JsonSerializable(typeof(RunResult))]
[JsonSerializable(typeof(SignalRequest))]
[JsonSerializable(typeof(StdinRequest))]
[JsonSerializable(typeof(ResizeRequest))]
[JsonSerializable(typeof(ProcessInfo))]
[JsonSerializable(typeof(ProcessList))]
[JsonSerializable(typeof(StreamEvent))]
[JsonSerializable(typeof(ClientMessage))]
internal sealed partial class ProcessesJson : JsonSerializerContext;
