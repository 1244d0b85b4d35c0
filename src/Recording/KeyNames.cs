using Sandbox.Display;

namespace Sandbox.Recording;

/// <summary>What a key is to the action builder.</summary>
internal enum ModifierKind { None, Shift, Ctrl, Alt, Win, AltGr }

/// <summary>
/// Names of keys in the two vocabularies recordings are replayed with: pynput's <c>Key.&lt;name&gt;</c>
/// (the old suite wrote <c>str(key)</c>) for single special keys, and pyautogui's key names, joined with
/// "+", for combinations (<c>ctrl+c</c>, <c>alt+f4</c>), so <c>pyautogui.hotkey(*key.split("+"))</c> replays them.
/// Left and right modifiers keep their side (<c>Key.ctrl_l</c>; pynput's <c>Key.ctrl</c> is an alias of it).
/// </summary>
internal static class KeyNames
{
    private static readonly Dictionary<uint, (string Pynput, string Combo)> s_special = Build();

    private static Dictionary<uint, (string, string)> Build()
    {
        var d = new Dictionary<uint, (string, string)>
        {
            [0xff08] = ("backspace", "backspace"),
            [0xff09] = ("tab", "tab"),
            [0xfe20] = ("tab", "tab"),              // ISO_Left_Tab: shift+tab
            [0xff0d] = ("enter", "enter"),
            [0xff8d] = ("enter", "enter"),          // KP_Enter
            [0xff1b] = ("esc", "esc"),
            [0xffff] = ("delete", "delete"),
            [0xff9f] = ("delete", "delete"),        // KP_Delete
            [0xff50] = ("home", "home"),
            [0xff95] = ("home", "home"),
            [0xff51] = ("left", "left"),
            [0xff96] = ("left", "left"),
            [0xff52] = ("up", "up"),
            [0xff97] = ("up", "up"),
            [0xff53] = ("right", "right"),
            [0xff98] = ("right", "right"),
            [0xff54] = ("down", "down"),
            [0xff99] = ("down", "down"),
            [0xff55] = ("page_up", "pageup"),
            [0xff9a] = ("page_up", "pageup"),
            [0xff56] = ("page_down", "pagedown"),
            [0xff9b] = ("page_down", "pagedown"),
            [0xff57] = ("end", "end"),
            [0xff9c] = ("end", "end"),
            [0xff63] = ("insert", "insert"),
            [0xff9e] = ("insert", "insert"),
            [0xff67] = ("menu", "apps"),
            [0xff13] = ("pause", "pause"),
            [0xff14] = ("scroll_lock", "scrolllock"),
            [0xff61] = ("print_screen", "printscreen"),
            [0xff7f] = ("num_lock", "numlock"),
            [0xffe5] = ("caps_lock", "capslock"),
            [0x0020] = ("space", "space"),
            [0xff80] = ("space", "space"),          // KP_Space
            [0xffe1] = ("shift_l", "shift"),
            [0xffe2] = ("shift_r", "shift"),
            [0xffe3] = ("ctrl_l", "ctrl"),
            [0xffe4] = ("ctrl_r", "ctrl"),
            [0xffe7] = ("alt_l", "alt"),            // Meta_L
            [0xffe8] = ("alt_r", "alt"),            // Meta_R
            [0xffe9] = ("alt_l", "alt"),
            [0xffea] = ("alt_r", "alt"),
            [0xffeb] = ("cmd_l", "win"),            // Super_L
            [0xffec] = ("cmd_r", "win"),
            [0xffed] = ("cmd_l", "win"),            // Hyper_L
            [0xffee] = ("cmd_r", "win"),
            [0xfe03] = ("alt_gr", "altgr"),         // ISO_Level3_Shift
            [0xff7e] = ("alt_gr", "altgr"),         // Mode_switch
            [0x1008ff12] = ("media_volume_mute", "volumemute"),
            [0x1008ff11] = ("media_volume_down", "volumedown"),
            [0x1008ff13] = ("media_volume_up", "volumeup"),
            [0x1008ff14] = ("media_play_pause", "playpause"),
            [0x1008ff16] = ("media_previous", "prevtrack"),
            [0x1008ff17] = ("media_next", "nexttrack"),
        };
        for (uint f = 1; f <= 35; f++) d[0xffbe + f - 1] = ($"f{f}", $"f{f}");
        return d;
    }

    /// <summary>The modifier a key adds to a hotkey; the locks (Caps, Shift, Num) are none.</summary>
    public static ModifierKind Modifier(uint keysym) => KeysymModifiers.Role(keysym) switch
    {
        ModifierRole.Shift => ModifierKind.Shift,
        ModifierRole.Ctrl => ModifierKind.Ctrl,
        ModifierRole.Alt => ModifierKind.Alt,
        ModifierRole.Win => ModifierKind.Win,
        ModifierRole.AltGr => ModifierKind.AltGr,
        _ => ModifierKind.None,
    };

    /// <summary>
    /// The pynput-style name of a key as pressed: <c>Key.enter</c> for special keys, the character for
    /// keys that type one, else the keysym in angle brackets as pynput prints unknown keys (<c>&lt;269025041&gt;</c>).
    /// </summary>
    public static string Pynput(uint keysym, string? text)
    {
        if (s_special.TryGetValue(keysym, out var n)) return "Key." + n.Pynput;
        if (text is not null && KeysymText.IsPrintable(text)) return text;
        return $"<{keysym}>";
    }

    /// <summary>
    /// The name of the key itself in a combination, from its unshifted keysym: the lower-case character
    /// (<c>c</c>, <c>1</c>, <c>-</c>) or pyautogui's name (<c>enter</c>, <c>f4</c>); X's keysym name otherwise.
    /// </summary>
    public static string Combo(uint baseKeysym, string? symbolName)
    {
        if (s_special.TryGetValue(baseKeysym, out var n)) return n.Combo;
        var text = KeysymText.Text(baseKeysym);
        if (text is not null && KeysymText.IsPrintable(text)) return text.ToLowerInvariant();
        return symbolName ?? $"<{baseKeysym}>";
    }

    /// <summary>pynput's name of a mouse button: Button.left/middle/right, Button.button8 and up.</summary>
    public static string Button(int button) => button switch
    {
        1 => "Button.left",
        2 => "Button.middle",
        3 => "Button.right",
        4 => "Button.scroll_up",
        5 => "Button.scroll_down",
        6 => "Button.scroll_left",
        7 => "Button.scroll_right",
        _ => $"Button.button{button}",
    };
}
