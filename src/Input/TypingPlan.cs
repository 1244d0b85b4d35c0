using System.Text;

namespace Sandbox.Input;

/// <summary>
/// How a text is typed: its keysyms, which of them the layout types on its own keys, and the segments
/// whose remaining characters fit in the spare keycodes at once (each segment binds its characters,
/// then types). Pure: the keyboard's answers come in as arguments.
/// </summary>
internal sealed class TypingPlan
{
    private TypingPlan(List<nuint> keysyms, KeyStroke?[] inLayout, List<TypingSegment> segments)
    {
        Keysyms = keysyms;
        InLayout = inLayout;
        Segments = segments;
    }

    /// <summary>One keysym per character typed (CRLF is one Return).</summary>
    public IReadOnlyList<nuint> Keysyms { get; }

    /// <summary>Per keysym: the layout's own key for it, or null when it is typed through a spare keycode.</summary>
    public IReadOnlyList<KeyStroke?> InLayout { get; }

    public IReadOnlyList<TypingSegment> Segments { get; }

    /// <summary>True when some character needs a spare keycode and the keyboard has none.</summary>
    public bool LacksSpareKeys { get; private init; }

    /// <summary>The keysyms that type <paramref name="text"/>, one per character; a CRLF pair is one Return.</summary>
    public static List<nuint> KeysymsOf(string text)
    {
        var keysyms = new List<nuint>(text.Length);
        for (var i = 0; i < text.Length;)
        {
            Rune.DecodeFromUtf16(text.AsSpan(i), out var rune, out var used);
            i += used;
            if (rune.Value == '\r' && i < text.Length && text[i] == '\n') continue;   // CRLF is one Return
            keysyms.Add(Sandbox.Input.Keysyms.ForRune(rune));
        }
        return keysyms;
    }

    /// <param name="keysyms">From <see cref="KeysymsOf"/>.</param>
    /// <param name="inLayout">The layout's key for each keysym (null: none, or the layout is not used).</param>
    /// <param name="spareSlots">How many characters the spare keycodes can hold at once.</param>
    public static TypingPlan Create(List<nuint> keysyms, KeyStroke?[] inLayout, int spareSlots)
    {
        // Segments whose spare-keyed characters fit in the spare keycodes at once.
        var segments = new List<TypingSegment>();
        var current = new HashSet<nuint>();
        var segStart = 0;
        for (var i = 0; i < keysyms.Count; i++)
        {
            if (inLayout[i] is not null || current.Contains(keysyms[i])) continue;
            if (current.Count == spareSlots && spareSlots > 0)
            {
                segments.Add(new TypingSegment(segStart, i, current));
                current = [];
                segStart = i;
            }
            current.Add(keysyms[i]);
        }
        segments.Add(new TypingSegment(segStart, keysyms.Count, current));
        return new TypingPlan(keysyms, inLayout, segments)
        {
            LacksSpareKeys = spareSlots == 0 && segments.Any(s => s.Bound.Count > 0),
        };
    }
}

/// <summary>Characters <see cref="Start"/> to <see cref="End"/> (exclusive), typed after binding <see cref="Bound"/> to spare keycodes.</summary>
internal sealed record TypingSegment(int Start, int End, HashSet<nuint> Bound);
