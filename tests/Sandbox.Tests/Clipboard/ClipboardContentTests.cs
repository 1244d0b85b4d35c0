using System.Text;
using Sandbox.Clipboard;
using Sandbox.Common;

namespace Sandbox.Tests.Clipboard;

public sealed class ClipboardContentTests
{
    [Theory]
    [InlineData(null, "Clipboard")]
    [InlineData("", "Clipboard")]
    [InlineData(" Clipboard ", "Clipboard")]
    [InlineData("PRIMARY", "Primary")]
    public void Selections_parse(string? value, string expected) =>
        Assert.Equal(expected, ClipboardContent.ParseSelection(value).ToString());

    [Theory]
    [InlineData("secondary")]
    [InlineData("clip")]
    public void Unknown_selections_are_a_bad_selection_field(string value)
    {
        var e = Assert.Throws<SandboxException>(() => ClipboardContent.ParseSelection(value));
        Assert.Equal(ErrorKind.BadRequest, e.Kind);
        Assert.Equal("selection", e.Field);
    }

    [Fact]
    public void Kinds_parse_and_unknown_kinds_are_refused()
    {
        Assert.Equal(ClipboardKind.Text, ClipboardContent.ParseKind(null));
        Assert.Equal(ClipboardKind.Image, ClipboardContent.ParseKind("IMAGE"));
        Assert.Equal("type", Assert.Throws<SandboxException>(() => ClipboardContent.ParseKind("video")).Field);
    }

    [Fact]
    public void Text_must_be_utf8_and_images_png()
    {
        var text = ClipboardContent.Validated(ClipboardKind.Text, Encoding.UTF8.GetBytes("Grüße, 世界 — ñ"));
        Assert.Equal("Grüße, 世界 — ñ", text.Text);
        Assert.Equal("text/plain; charset=utf-8", text.MediaType);
        Assert.Equal(ErrorKind.BadRequest, Assert.Throws<SandboxException>(() => ClipboardContent.Validated(ClipboardKind.Text, [0x66, 0xFC])).Kind);
        Assert.Equal(ErrorKind.BadRequest, Assert.Throws<SandboxException>(() => ClipboardContent.Validated(ClipboardKind.Image, [1, 2, 3])).Kind);
        var png = ClipboardContent.Validated(ClipboardKind.Image, [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0]);
        Assert.Equal("image/png", png.MediaType);
        Assert.Throws<InvalidOperationException>(() => png.Text);
    }
}
