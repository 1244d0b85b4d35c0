using System.Text.Json.Serialization;

namespace Sandbox.Clipboard;

/// <summary>The answer of <c>PUT /clipboard</c>.</summary>
internal sealed record ClipboardSetAnswer(string Selection, string Type, int Bytes);

/// <summary>A JSON body for <c>PUT /clipboard</c>: <c>{"text": "..."}</c> (an alternative to a text/plain body).</summary>
internal sealed record ClipboardSetRequest(string? Text, string? Selection);

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ClipboardSetAnswer))]
[JsonSerializable(typeof(ClipboardSetRequest))]
internal sealed partial class ClipboardJson : JsonSerializerContext;
