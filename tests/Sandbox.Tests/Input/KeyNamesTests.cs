using System.Text;
using Sandbox.Input;

namespace Sandbox.Tests.Input;

public sealed class KeyNamesTests
{
    [Theory]
    [InlineData("Return", 0xff0d)]
    [InlineData("enter", 0xff0d)]
    [InlineData("ENTER", 0xff0d)]
    [InlineData("ctrl", 0xffe3)]
    [InlineData("Ctrl", 0xffe3)]
    [InlineData("control", 0xffe3)]
    [InlineData("shift", 0xffe1)]
    [InlineData("alt", 0xffe9)]
    [InlineData("super", 0xffeb)]
    [InlineData("win", 0xffeb)]
    [InlineData("cmd", 0xffeb)]
    [InlineData("meta", 0xffe7)]
    [InlineData("esc", 0xff1b)]
    [InlineData("Escape", 0xff1b)]
    [InlineData("BackSpace", 0xff08)]
    [InlineData("backspace", 0xff08)]
    [InlineData("Page_Down", 0xff56)]
    [InlineData("pagedown", 0xff56)]
    [InlineData("pgdn", 0xff56)]
    [InlineData("PageUp", 0xff55)]
    [InlineData("ArrowLeft", 0xff51)]
    [InlineData("Left", 0xff51)]
    [InlineData("F5", 0xffc2)]
    [InlineData("f5", 0xffc2)]
    [InlineData("F24", 0xffd5)]
    [InlineData("KP_Enter", 0xff8d)]
    [InlineData("kp_enter", 0xff8d)]
    [InlineData("KP_0", 0xffb0)]
    [InlineData("num0", 0xffb0)]
    [InlineData("space", 0x20)]
    [InlineData("a", 0x61)]
    [InlineData("A", 0x41)]
    [InlineData("1", 0x31)]
    [InlineData("!", 0x21)]
    [InlineData("exclam", 0x21)]
    [InlineData("ü", 0xfc)]
    [InlineData("€", 0x10020ac)]
    [InlineData("世", 0x1004e16)]
    [InlineData("U20AC", 0x10020ac)]
    [InlineData("XF86AudioMute", 0x1008ff12)]
    [InlineData("volumemute", 0x1008ff12)]
    [InlineData("printscreen", 0xff61)]
    [InlineData("capslock", 0xffe5)]
    public void Resolves_xdotool_pyautogui_and_common_names(string name, long keysym)
    {
        var key = KeyNames.TryResolve(name);
        Assert.NotNull(key);
        Assert.Equal((nuint)keysym, key.Value.Keysym);
        Assert.Equal(name, key.Value.Name);
    }

    [Theory]
    [InlineData("foo")]
    [InlineData("ctrlx")]
    [InlineData("F99")]
    [InlineData("")]
    public void Unknown_names_resolve_to_nothing(string name) => Assert.Null(KeyNames.TryResolve(name));

    [Fact]
    public void A_chord_keeps_its_order_and_knows_its_modifiers()
    {
        var chord = KeyNames.ParseChord("ctrl+shift+t", "text");
        Assert.Equal(new nuint[] { 0xffe3, 0xffe1, 0x74 }, chord.Keys.Select(k => k.Keysym));
        Assert.Equal(new[] { true, true, false }, chord.Keys.Select(k => k.IsModifier));
        Assert.Equal("ctrl+shift+t", chord.ToString());
    }

    [Theory]
    [InlineData("ctrl++", new long[] { 0xffe3, 0x2b })]
    [InlineData("+", new long[] { 0x2b })]
    [InlineData("shift+ ", new long[] { 0xffe1, 0x20 })]
    [InlineData("alt+F4", new long[] { 0xffe9, 0xffc1 })]
    public void Plus_and_space_can_be_keys_of_a_chord(string text, long[] keysyms) =>
        Assert.Equal(keysyms.Select(k => (nuint)k), KeyNames.ParseChord(text, "text").Keys.Select(k => k.Keysym));

    [Fact]
    public void A_sequence_is_chords_separated_by_whitespace()
    {
        var seq = KeyNames.ParseSequence("ctrl+a  Delete", "text");
        Assert.Equal(2, seq.Count);
        Assert.Equal("ctrl+a", seq[0].ToString());
        Assert.Equal((nuint)0xffff, seq[1].Keys.Single().Keysym);
        Assert.Equal((nuint)0x20, KeyNames.ParseSequence(" ", "text").Single().Keys.Single().Keysym);
    }

    [Fact]
    public void An_unknown_key_is_reported_with_its_field_and_name()
    {
        var e = Assert.Throws<ActionInputException>(() => KeyNames.ParseSequence("ctrl+foo", "actions[2].text"));
        Assert.Equal("actions[2].text", e.Field);
        Assert.Contains("'foo'", e.Message);
        Assert.StartsWith("actions[2].text: ", e.Message);
    }

    [Theory]
    [InlineData('a', 0x61)]
    [InlineData('~', 0x7e)]
    [InlineData('é', 0xe9)]
    [InlineData('\u00a0', 0xa0)]
    [InlineData('—', 0x1002014)]
    [InlineData('\n', 0xff0d)]
    [InlineData('\t', 0xff09)]
    [InlineData('\u0007', 0)]
    [InlineData('\u0085', 0)]
    public void Characters_map_to_latin1_or_unicode_keysyms(char c, long keysym) =>
        Assert.Equal((nuint)keysym, Keysyms.ForRune(new Rune(c)));

    [Fact]
    public void Characters_outside_the_basic_plane_get_unicode_keysyms() =>
        Assert.Equal((nuint)0x101f600, Keysyms.ForRune(Rune.GetRuneAt("😀", 0)));
}
