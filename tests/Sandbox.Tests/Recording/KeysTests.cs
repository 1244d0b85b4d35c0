using Sandbox.Recording;
using Sandbox.Display;

namespace Sandbox.Tests.Recording;

public sealed class KeysTests
{
    [Theory]
    [InlineData(0x61u, "a")]
    [InlineData(0x20u, " ")]
    [InlineData(0xe9u, "é")]             // Latin-1: the keysym is the code point
    [InlineData(0x1002713u, "✓")]        // 0x01000000 + U
    [InlineData(0x101f600u, "😀")]       // beyond the BMP
    [InlineData(0x6c1u, "а")]            // Cyrillic_a, from the generated legacy table
    [InlineData(0x7e1u, "α")]            // Greek_alpha
    [InlineData(0x20acu, "€")]           // EuroSign
    [InlineData(0x1a1u, "Ą")]            // Aogonek (Latin-2)
    [InlineData(0xffb7u, "7")]           // KP_7
    [InlineData(0xffabu, "+")]           // KP_Add
    public void Keysyms_type_their_character(uint keysym, string text) => Assert.Equal(text, KeysymText.Text(keysym));

    [Theory]
    [InlineData(0xff0du)]   // Return
    [InlineData(0xff09u)]   // Tab
    [InlineData(0xffe1u)]   // Shift_L
    [InlineData(0xfe51u)]   // dead_acute
    [InlineData(0x1000007u)] // a control character as a Unicode keysym
    [InlineData(0u)]
    public void Keys_without_printable_text_have_none(uint keysym) => Assert.Null(KeysymText.Text(keysym) is { } t && KeysymText.IsPrintable(t) ? t : null);

    [Theory]
    [InlineData(0xff0du, "Key.enter", "enter")]
    [InlineData(0xff1bu, "Key.esc", "esc")]
    [InlineData(0xffe3u, "Key.ctrl_l", "ctrl")]
    [InlineData(0xffe4u, "Key.ctrl_r", "ctrl")]
    [InlineData(0xffebu, "Key.cmd_l", "win")]
    [InlineData(0xfe03u, "Key.alt_gr", "altgr")]
    [InlineData(0xffc1u, "Key.f4", "f4")]
    [InlineData(0xff56u, "Key.page_down", "pagedown")]
    [InlineData(0x20u, "Key.space", "space")]
    [InlineData(0x41u, "A", "a")]
    [InlineData(0x1008ff13u, "Key.media_volume_up", "volumeup")]
    public void Special_keys_have_pynput_and_pyautogui_names(uint keysym, string pynput, string combo)
    {
        Assert.Equal(pynput, KeyNames.Pynput(keysym, KeysymText.Text(keysym)));
        Assert.Equal(combo, KeyNames.Combo(keysym, null));
    }

    [Fact]
    public void Unknown_keys_print_like_pynput_and_combine_by_their_x_name()
    {
        Assert.Equal("<269025053>", KeyNames.Pynput(0x1008ff1d, null));
        Assert.Equal("XF86Calculator", KeyNames.Combo(0x1008ff1d, "XF86Calculator"));
    }

    [Fact]
    public void Buttons_have_pynput_names() =>
        Assert.Equal(["Button.left", "Button.middle", "Button.right", "Button.scroll_up", "Button.button9"],
            new[] { 1, 2, 3, 4, 9 }.Select(KeyNames.Button));

    [Fact]
    public void Modifiers_format_and_parse_in_a_fixed_order()
    {
        var all = HeldModifiers.Win | HeldModifiers.Shift | HeldModifiers.Ctrl | HeldModifiers.Alt;
        Assert.Equal("ctrl+alt+shift+win", InputEvent.FormatModifiers(all));
        Assert.Equal(all, InputEvent.ParseModifiers("ctrl+alt+shift+win"));
    }
}
