using System.Text;
using Sandbox.Display;
using Sandbox.Native;

namespace Sandbox.Input;

/// <summary>One named key: the name as the client wrote it and the X keysym it resolved to.</summary>
internal readonly record struct KeySpec(string Name, nuint Keysym)
{
    public bool IsModifier => Keysyms.IsModifier(Keysym);
}

/// <summary>Keys pressed together, in order (modifiers first, as written): "ctrl+shift+t".</summary>
internal sealed record KeyChord(IReadOnlyList<KeySpec> Keys)
{
    public override string ToString() => string.Join('+', Keys.Select(k => k.Name));
}

/// <summary>
/// Characters and key names to X keysyms. Independent of any keyboard layout: a keysym says what a
/// key produces, and the keyboard code finds (or makes) a key that produces it.
/// </summary>
internal static unsafe class Keysyms
{
    public const nuint Return = 0xff0d, Tab = 0xff09, BackSpace = 0xff08, Escape = 0xff1b;
    public const nuint ShiftL = 0xffe1, ShiftR = 0xffe2;

    /// <summary>The keysym that types <paramref name="rune"/>, or <see cref="Xlib.NoSymbol"/> for a control character.</summary>
    public static nuint ForRune(Rune rune)
    {
        var c = rune.Value;
        // Latin-1 printable characters are their own keysyms; everything else has a Unicode keysym
        // (0x01000000 + code point), which Xlib and toolkits translate back to the character.
        if (c is >= 0x20 and <= 0x7e or >= 0xa0 and <= 0xff) return (nuint)c;
        return c switch
        {
            '\n' or '\r' => Return,
            '\t' => Tab,
            '\b' => BackSpace,
            0x1b => Escape,
            < 0x20 or (>= 0x7f and < 0xa0) => Xlib.NoSymbol,
            _ => (nuint)(0x01000000 | c),
        };
    }

    /// <summary>Shift, Control, Alt, Meta, Super, Hyper, Caps/Num/Shift Lock, AltGr and Mode_switch.</summary>
    public static bool IsModifier(nuint keysym) => KeysymModifiers.IsModifier(keysym);

    /// <summary>libX11's name for a keysym ("Return", "a", "U4E16"), for messages.</summary>
    public static string Name(nuint keysym)
    {
        var p = Xlib.XKeysymToString(keysym);
        return p == null ? $"0x{keysym:x}" : new string((sbyte*)p);
    }

    /// <summary>libX11's case-sensitive name lookup ("Return", "KP_Enter", "XF86AudioMute", "U20AC").</summary>
    public static nuint FromXName(string name)
    {
        if (name.Length == 0 || name.Length > 64) return Xlib.NoSymbol;
        Span<byte> buffer = stackalloc byte[Encoding.UTF8.GetMaxByteCount(name.Length) + 1];
        var n = Encoding.UTF8.GetBytes(name, buffer);
        buffer[n] = 0;
        fixed (byte* p = buffer) return Xlib.XStringToKeysym(p);
    }
}
