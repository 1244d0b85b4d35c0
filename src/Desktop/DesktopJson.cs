using System.Text.Json.Serialization;

namespace Sandbox.Desktop;

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(WindowListAnswer))]
[JsonSerializable(typeof(WindowInfo))]
[JsonSerializable(typeof(WindowActionAnswer))]
[JsonSerializable(typeof(WindowMove))]
[JsonSerializable(typeof(WaitRequest))]
[JsonSerializable(typeof(WaitAnswer))]
[JsonSerializable(typeof(LaunchRequest))]
[JsonSerializable(typeof(LaunchAnswer))]
internal sealed partial class DesktopJson : JsonSerializerContext;
