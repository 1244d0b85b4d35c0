using System.Text.Json;
using System.Text.Json.Serialization;
using Sandbox.Web;

namespace Sandbox.Gateway;

/// <summary><c>GET /api</c>.</summary>
internal sealed record ApiVersionModel(string Version);

/// <summary>A kernel as jupyter_server's <c>kernel_model</c> shows it.</summary>
internal sealed record KernelModel(
    string Id,
    string Name,
    string LastActivity,
    string ExecutionState,
    int Connections,
    string? Reason);

/// <summary>The kernelspec document as jupyter_client's <c>KernelSpec.to_dict()</c>.</summary>
internal sealed record KernelSpecDoc(
    string[] Argv,
    Dictionary<string, string> Env,
    string DisplayName,
    string Language,
    string InterruptMode,
    JsonElement? Metadata);

internal sealed record KernelSpecModel(string Name, KernelSpecDoc Spec, Dictionary<string, string> Resources);

internal sealed record KernelSpecsModel(string Default, Dictionary<string, KernelSpecModel> Kernelspecs);

/// <summary>Body of <c>POST /api/kernels</c>; every field optional. <c>env</c> values must be strings.</summary>
internal sealed record KernelStartRequest(string? Name, string? Path, Dictionary<string, JsonElement>? Env);

internal sealed record SessionKernelRef(string? Id, string? Name);

internal sealed record NotebookRef(string? Path, string? Name);

/// <summary>Body of <c>POST/PATCH /api/sessions</c>.</summary>
internal sealed record SessionRequest(string? Path, string? Type, string? Name, SessionKernelRef? Kernel, NotebookRef? Notebook);

internal sealed record SessionModel(string Id, string? Path, string? Name, string? Type, KernelModel Kernel, NotebookRef? Notebook);

/// <summary>Gateway section of <c>/health</c> on the REST port.</summary>
internal sealed record GatewayHealth(
    string Mode,
    string State,
    string? Listen,
    int Kernels,
    int Connections,
    int PoolReady,
    int PoolStarting,
    int PoolTarget,
    string? KernelEnv,
    ExternalGatewayHealth? External,
    KernelHealth[]? KernelList,
    string? Error);

internal sealed record KernelHealth(string Id, string Name, string ExecutionState, int Connections, int? Pid, int Restarts);

internal sealed record ExternalGatewayHealth(string State, int? Pid, int Restarts, int? LastExitCode, string Command);

/// <summary>
/// Source-generated JSON for the gateway's REST payloads. Jupyter's keys are already snake_case, so the
/// naming policy maps our records onto them; message contents never pass through here (they stay raw bytes).
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ApiVersionModel))]
[JsonSerializable(typeof(KernelModel))]
[JsonSerializable(typeof(KernelModel[]))]
[JsonSerializable(typeof(KernelSpecModel))]
[JsonSerializable(typeof(KernelSpecsModel))]
[JsonSerializable(typeof(KernelStartRequest))]
[JsonSerializable(typeof(SessionRequest))]
[JsonSerializable(typeof(SessionModel))]
[JsonSerializable(typeof(SessionModel[]))]
[JsonSerializable(typeof(GatewayHealth))]
internal sealed partial class GatewayJson : JsonSerializerContext;

/// <summary>kernel.json as found on disk (jupyter_client's field names).</summary>
internal sealed record KernelSpecFile(
    string[]? Argv,
    string? DisplayName,
    string? Language,
    string? InterruptMode,
    Dictionary<string, string>? Env,
    JsonElement? Metadata);

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    ReadCommentHandling = JsonCommentHandling.Skip,
    AllowTrailingCommas = true,
    WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(KernelSpecFile))]
internal sealed partial class KernelSpecFileJson : JsonSerializerContext;
