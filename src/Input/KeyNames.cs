using System.Text;
using Sandbox.Native;

namespace Sandbox.Input;

/// <summary>
/// Resolves the key names agents write: xdotool's (X keysym names such as "Return", "KP_Enter",
/// "ctrl+shift+t", "super"), pyautogui's (OSWorld: "enter", "pgdn", "win", "volumeup") and common
/// spellings ("Ctrl", "ArrowLeft", "Esc"). A single character names the key that types it.
/// </summary>
internal static class KeyNames
{
    // Compared after lower-casing and removing '_', '-' and spaces, so "Page_Down", "page-down" and
    // "PageDown" are one entry. Values are X keysym names.
    private static readonly Dictionary<string, string> s_aliases = new(StringComparer.Ordinal)
    {
        ["ctrl"] = "Control_L", ["control"] = "Control_L", ["ctrlleft"] = "Control_L", ["lctrl"] = "Control_L",
        ["ctrlright"] = "Control_R", ["rctrl"] = "Control_R",
        ["shift"] = "Shift_L", ["shiftleft"] = "Shift_L", ["lshift"] = "Shift_L",
        ["shiftright"] = "Shift_R", ["rshift"] = "Shift_R",
        ["alt"] = "Alt_L", ["altleft"] = "Alt_L", ["lalt"] = "Alt_L", ["option"] = "Alt_L", ["optionleft"] = "Alt_L",
        ["altright"] = "Alt_R", ["ralt"] = "Alt_R", ["optionright"] = "Alt_R",
        ["altgr"] = "ISO_Level3_Shift",
        ["super"] = "Super_L", ["superleft"] = "Super_L", ["win"] = "Super_L", ["winleft"] = "Super_L",
        ["windows"] = "Super_L", ["cmd"] = "Super_L", ["command"] = "Super_L", ["os"] = "Super_L",
        ["superright"] = "Super_R", ["winright"] = "Super_R",
        ["meta"] = "Meta_L", ["hyper"] = "Hyper_L",
        ["enter"] = "Return", ["return"] = "Return", ["ret"] = "Return", ["kpenter"] = "KP_Enter",
        ["esc"] = "Escape", ["escape"] = "Escape",
        ["tab"] = "Tab", ["space"] = "space", ["spacebar"] = "space",
        ["backspace"] = "BackSpace", ["bksp"] = "BackSpace",
        ["del"] = "Delete", ["delete"] = "Delete", ["ins"] = "Insert", ["insert"] = "Insert",
        ["home"] = "Home", ["end"] = "End",
        ["pageup"] = "Prior", ["pgup"] = "Prior", ["prior"] = "Prior",
        ["pagedown"] = "Next", ["pgdn"] = "Next", ["next"] = "Next",
        ["up"] = "Up", ["down"] = "Down", ["left"] = "Left", ["right"] = "Right",
        ["arrowup"] = "Up", ["arrowdown"] = "Down", ["arrowleft"] = "Left", ["arrowright"] = "Right",
        ["capslock"] = "Caps_Lock", ["numlock"] = "Num_Lock", ["scrolllock"] = "Scroll_Lock",
        ["pause"] = "Pause", ["break"] = "Break",
        ["print"] = "Print", ["printscreen"] = "Print", ["prntscrn"] = "Print", ["prtsc"] = "Print", ["prtscr"] = "Print",
        ["sysreq"] = "Sys_Req",
        ["menu"] = "Menu", ["apps"] = "Menu", ["contextmenu"] = "Menu",
        ["help"] = "Help", ["clear"] = "Clear", ["select"] = "Select", ["execute"] = "Execute",
        ["num0"] = "KP_0", ["num1"] = "KP_1", ["num2"] = "KP_2", ["num3"] = "KP_3", ["num4"] = "KP_4",
        ["num5"] = "KP_5", ["num6"] = "KP_6", ["num7"] = "KP_7", ["num8"] = "KP_8", ["num9"] = "KP_9",
        ["add"] = "KP_Add", ["subtract"] = "KP_Subtract", ["multiply"] = "KP_Multiply",
        ["divide"] = "KP_Divide", ["decimal"] = "KP_Decimal", ["separator"] = "KP_Separator",
        ["volumeup"] = "XF86AudioRaiseVolume", ["volumedown"] = "XF86AudioLowerVolume", ["volumemute"] = "XF86AudioMute",
        ["playpause"] = "XF86AudioPlay", ["nexttrack"] = "XF86AudioNext", ["prevtrack"] = "XF86AudioPrev",
        ["stop"] = "XF86AudioStop",
        ["browserback"] = "XF86Back", ["browserforward"] = "XF86Forward", ["browserrefresh"] = "XF86Refresh",
        ["browserhome"] = "XF86HomePage", ["browsersearch"] = "XF86Search", ["browserfavorites"] = "XF86Favorites",
        ["browserstop"] = "XF86Stop", ["launchmail"] = "XF86Mail", ["sleep"] = "XF86Sleep",
        ["launchapp1"] = "XF86Launch0", ["launchapp2"] = "XF86Launch1", ["launchmediaselect"] = "XF86AudioMedia",
        ["hangul"] = "Hangul", ["hanguel"] = "Hangul", ["hanja"] = "Hangul_Hanja", ["kanji"] = "Kanji",
        ["kana"] = "Katakana", ["junja"] = "Hangul_Jeonja", ["final"] = "Hangul_End",
        ["convert"] = "Henkan", ["nonconvert"] = "Muhenkan", ["modechange"] = "Mode_switch",
        ["accept"] = "Execute",
        ["plus"] = "plus", ["minus"] = "minus",
    };

    /// <summary>The keysym for one key name, or null when the name means nothing.</summary>
    public static KeySpec? TryResolve(string name)
    {
        if (name.Length == 0) return null;
        // xdotool semantics first: an exact X keysym name ("Return", "a", "A", "F5", "KP_0", "U20AC").
        var exact = Keysyms.FromXName(name);
        if (exact != Xlib.NoSymbol) return new KeySpec(name, exact);

        if (s_aliases.TryGetValue(Normalize(name), out var alias))
            return new KeySpec(name, Keysyms.FromXName(alias));

        // One character: the key that types it ("!", "ü", "€", "世").
        if (Rune.DecodeFromUtf16(name, out var rune, out var used) == System.Buffers.OperationStatus.Done && used == name.Length)
        {
            var ks = Keysyms.ForRune(rune);
            if (ks != Xlib.NoSymbol) return new KeySpec(name, ks);
        }

        // Case variants of X names: "f5" → "F5", "kp_enter" → "KP_Enter", "page_up" → "Page_Up".
        foreach (var variant in CaseVariants(name))
        {
            var ks = Keysyms.FromXName(variant);
            if (ks != Xlib.NoSymbol) return new KeySpec(name, ks);
        }
        return null;
    }

    /// <summary>
    /// Parses "ctrl+shift+t" into a chord. A '+' after a '+' (or alone) is the plus key: "ctrl++".
    /// Throws <see cref="ActionInputException"/> naming <paramref name="field"/>.
    /// </summary>
    public static KeyChord ParseChord(string text, string field)
    {
        var names = new List<string>();
        var start = 0;
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] != '+') continue;
            if (i == start) { names.Add("+"); start = i + 1; continue; }   // a literal plus
            names.Add(text[start..i]);
            start = i + 1;
        }
        if (start < text.Length) names.Add(text[start..]);
        if (names.Count == 0) throw new ActionInputException(field, $"'{text}' names no key");

        var keys = new List<KeySpec>(names.Count);
        foreach (var n in names)
        {
            var trimmed = n.Trim();
            if (trimmed.Length == 0 && n.Length > 0) trimmed = " ";
            keys.Add(TryResolve(trimmed) ?? throw new ActionInputException(field, $"unknown key name '{n}' in '{text}'"));
        }
        return new KeyChord(keys);
    }

    /// <summary>xdotool's "key" argument: chords separated by whitespace ("ctrl+a Delete"); " " is the space key.</summary>
    public static IReadOnlyList<KeyChord> ParseSequence(string text, string field)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            if (text.Length == 0) throw new ActionInputException(field, "names no key");
            return [new KeyChord([new KeySpec(text, Keysyms.FromXName("space"))])];
        }
        return text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Select(p => ParseChord(p, field)).ToArray();
    }

    private static string Normalize(string name)
    {
        Span<char> buffer = stackalloc char[Math.Min(name.Length, 64)];
        var n = 0;
        foreach (var c in name)
        {
            if (c is '_' or '-' or ' ') continue;
            if (n == buffer.Length) return "";
            buffer[n++] = char.ToLowerInvariant(c);
        }
        return new string(buffer[..n]);
    }

    private static IEnumerable<string> CaseVariants(string name)
    {
        // Each '_'-separated part capitalised ("Page_Up"); parts of up to two letters upper-cased ("KP_Enter").
        var parts = name.Split('_');
        yield return string.Join('_', parts.Select(Capitalize));
        yield return string.Join('_', parts.Select(p => p.Length <= 2 ? p.ToUpperInvariant() : Capitalize(p)));
        yield return name.ToUpperInvariant();
    }

    private static string Capitalize(string s) =>
        s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..].ToLowerInvariant();
}
