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
internal sealed partial class DesktopJson : JsonSerializerContext;
