using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Sandbox.Hosting;

namespace Sandbox.Recording;

/// <summary>
/// The recording files' serializer settings, over the one source-generated <see cref="AppJson"/> context.
/// Files keep characters as UTF-8 and do not escape '+' or quotes as HTML-safe output would ("ctrl+c",
/// not "ctrl\u002Bc"): they are data files, never embedded in a page. The action list is indented by
/// two spaces, as the old suite's json.dump(indent=2) wrote it.
/// </summary>
internal static class RecordingJson
{
    public static AppJson Compact { get; } = new(Options(indented: false));
    public static AppJson Indented { get; } = new(Options(indented: true));

    private static JsonSerializerOptions Options(bool indented) => new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        WriteIndented = indented,
    };
}
