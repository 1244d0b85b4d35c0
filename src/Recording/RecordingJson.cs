using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Sandbox.Recording;

/// <summary>
/// The recording files' formats: journal lines and the action list. A context of its own (the API
/// answer is in RecordApiJson) because files need other writer settings than HTTP answers: characters stay
/// UTF-8 and '+' or quotes are not escaped as HTML-safe output would ("ctrl+c", not "ctrl\u002Bc") —
/// they are data files, never embedded in a page — and the action list is indented by two spaces, as
/// the old suite's json.dump(indent=2) wrote it.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(InputEvent))]
[JsonSerializable(typeof(JournalNote))]
[JsonSerializable(typeof(List<ActionRecord>))]
internal sealed partial class RecordingJson : JsonSerializerContext
{
    public static RecordingJson Compact { get; } = new(CreateOptions(indented: false));
    public static RecordingJson Indented { get; } = new(CreateOptions(indented: true));

    private static JsonSerializerOptions CreateOptions(bool indented) => new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        WriteIndented = indented,
    };
}
