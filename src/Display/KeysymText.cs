using System.Text;

namespace Sandbox.Display;

/// <summary>
/// The text a keysym types, by X's keysymdef.h rules: Latin-1 keysyms are their own code point,
/// 0x01000000 + U is U, keypad keys type their digit or operator, and the legacy 8-bit sets go through
/// the generated table (<c>KeysymText.g.cs</c>, made by tools/gen-keysym-text.py).
/// </summary>
internal static partial class KeysymText
{
    /// <summary>The code point typed by <paramref name="keysym"/>, or -1 when it types nothing printable.</summary>
    public static int CodePoint(uint keysym)
    {
        if (keysym is >= 0x20 and <= 0x7e or >= 0xa0 and <= 0xff) return (int)keysym;
        if (keysym is >= 0x01000000 and <= 0x0110ffff)
        {
            var u = (int)(keysym - 0x01000000);
            return u < 0x20 || u is >= 0x7f and < 0xa0 || u is >= 0xd800 and <= 0xdfff ? -1 : u;
        }
        switch (keysym)
        {
            case >= 0xffb0 and <= 0xffb9: return '0' + (int)(keysym - 0xffb0);   // KP_0 … KP_9
            case 0xff80: return ' ';   // KP_Space
            case 0xffaa: return '*';   // KP_Multiply
            case 0xffab: return '+';   // KP_Add
            case 0xffac: return ',';   // KP_Separator
            case 0xffad: return '-';   // KP_Subtract
            case 0xffae: return '.';   // KP_Decimal
            case 0xffaf: return '/';   // KP_Divide
            case 0xffbd: return '=';   // KP_Equal
        }
        if (keysym > 0xffff) return -1;
        var pairs = LegacyPairs;
        int lo = 0, hi = pairs.Length / 2 - 1;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            var k = pairs[mid * 2];
            if (k == keysym) return (int)pairs[mid * 2 + 1];
            if (k < keysym) lo = mid + 1; else hi = mid - 1;
        }
        return -1;
    }

    /// <summary>The text as a string (one or two UTF-16 units), or null.</summary>
    public static string? Text(uint keysym)
    {
        var cp = CodePoint(keysym);
        return cp < 0 ? null : cp < 0x10000 ? ((char)cp).ToString() : char.ConvertFromUtf32(cp);
    }

    /// <summary>True when the text is made only of printable characters (space counts; tab, CR, BS do not).</summary>
    public static bool IsPrintable(string? text)
    {
        if (string.IsNullOrEmpty(text)) return false;
        foreach (var r in text.EnumerateRunes())
            if (Rune.IsControl(r)) return false;
        return true;
    }
}
