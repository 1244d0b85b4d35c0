using System.Text.Json.Serialization;

namespace Sandbox.Accessibility;

/// <summary>OSWorld's answer: the desktop's XML under "AT".</summary>
internal sealed record OsWorldAnswer([property: JsonPropertyName("AT")] string At);

internal sealed record ValueJson(double Current, double Minimum, double Maximum, double Step);

/// <summary>One element in JSON answers. Bounds are [x, y, width, height] in screen pixels.</summary>
internal sealed record ElementJson
{
    public int Id { get; init; }
    public string Role { get; init; } = "";
    public string Name { get; init; } = "";
    public string? Description { get; init; }
    public string[] States { get; init; } = [];
    public int[]? Bounds { get; init; }
    /// <summary>Bounds in the scale the request named (a scaled screenshot's pixels).</summary>
    public int[]? ScaledBounds { get; init; }
    public string? Text { get; init; }
    public ValueJson? Value { get; init; }
    public string[]? Actions { get; init; }
    public Dictionary<string, string>? Attributes { get; init; }
    public string? App { get; init; }
    public string? Truncated { get; init; }
    public List<ElementJson>? Children { get; init; }
}

internal sealed record TreeAnswer(int Elements, double ElapsedMs, string? Truncated, ElementJson Root);

internal sealed record FindAnswer(int Count, double ElapsedMs, string? Truncated, List<ElementJson> Elements);

internal sealed record AtAnswer(ElementJson? Element);

internal sealed record ActionRequest
{
    public string? Action { get; init; }
    public string? Name { get; init; }
    public string? Text { get; init; }
    public double? Value { get; init; }
}

internal sealed record ActionAnswer(bool Ok, int Id, string Action, ElementJson? Element);

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(OsWorldAnswer))]
[JsonSerializable(typeof(TreeAnswer))]
[JsonSerializable(typeof(FindAnswer))]
[JsonSerializable(typeof(AtAnswer))]
[JsonSerializable(typeof(ActionRequest))]
[JsonSerializable(typeof(ActionAnswer))]
internal sealed partial class AccessibilityJson : JsonSerializerContext;
