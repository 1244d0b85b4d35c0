using System.Text.Json.Serialization;

namespace Sandbox.Fleet;

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(ReadinessReport))]
[JsonSerializable(typeof(LivenessReport))]
[JsonSerializable(typeof(InitRequest))]
[JsonSerializable(typeof(InitResponse))]
[JsonSerializable(typeof(ContainerHealth))]
internal sealed partial class FleetJson : JsonSerializerContext;

internal sealed record LivenessReport(string Status);
