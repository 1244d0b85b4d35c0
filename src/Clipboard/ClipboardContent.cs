using System.Text;
using Sandbox.Common;

namespace Sandbox.Clipboard;

/// <summary>Which X selection: the ctrl+c/ctrl+v CLIPBOARD or the select/middle-click PRIMARY.</summary>
internal enum ClipboardSelection { Clipboard, Primary }

internal enum ClipboardKind { Text, Image }

/// <summary>What a selection holds: UTF-8 text or a PNG image, as bytes.</summary>
internal sealed record ClipboardContent(ClipboardKind Kind, byte[] Data)
{
    public static ClipboardContent FromText(string text) => new(ClipboardKind.Text, Encoding.UTF8.GetBytes(text));

    public string Text => Kind == ClipboardKind.Text ? Encoding.UTF8.GetString(Data)
        : throw new InvalidOperationException("the content is an image");

    public string MediaType => Kind == ClipboardKind.Text ? "text/plain; charset=utf-8" : "image/png";

    public static ReadOnlySpan<byte> PngSignature => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>Checks what a client sent: text must be valid UTF-8, an image must be a PNG.</summary>
    public static ClipboardContent Validated(ClipboardKind kind, byte[] data)
    {
        if (kind == ClipboardKind.Image && !data.AsSpan().StartsWith(PngSignature))
            throw SandboxException.BadField("body", "an image/png body must be a PNG file (it lacks the PNG signature)");
        if (kind == ClipboardKind.Text && !System.Text.Unicode.Utf8.IsValid(data))
            throw SandboxException.BadField("body", "text must be UTF-8");
        return new ClipboardContent(kind, data);
    }

    public static ClipboardSelection ParseSelection(string? value) => (value ?? "clipboard").Trim().ToLowerInvariant() switch
    {
        "" or "clipboard" => ClipboardSelection.Clipboard,
        "primary" => ClipboardSelection.Primary,
        var v => throw SandboxException.BadField("selection", $"selection={v}: expected clipboard or primary"),
    };

    public static ClipboardKind ParseKind(string? value) => (value ?? "text").Trim().ToLowerInvariant() switch
    {
        "" or "text" => ClipboardKind.Text,
        "image" => ClipboardKind.Image,
        var v => throw SandboxException.BadField("type", $"type={v}: expected text or image"),
    };

    public static string Name(ClipboardSelection s) => s == ClipboardSelection.Clipboard ? "CLIPBOARD" : "PRIMARY";
}
