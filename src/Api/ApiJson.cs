using System.Text.Json.Serialization;

namespace Sandbox.Api;

/// <summary>The health report's JSON. Each area has its own context (CaptureJson, InputJson, ...), chained by the composition root.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(HealthReport))]
internal sealed partial class ApiJson : JsonSerializerContext;
