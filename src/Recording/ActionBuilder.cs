using System.Text;
using Sandbox.Display;

namespace Sandbox.Recording;

internal sealed record ActionBuilderOptions(double TypingPauseSeconds = 1.5, int DragThresholdPixels = 5);

/// <summary>
/// Turns the event stream into the old suite's action list (plus scroll and drag), incrementally.
/// <list type="bullet">
/// <item>Printable keys without ctrl/alt/win collect into one <c>typed_sequence</c>; a pause over the typing
/// pause, any other key, a click or a scroll ends it. Shift and AltGr only choose the character.</item>
/// <item>Other keys are <c>hotkey</c>s: <c>Key.enter</c> alone, <c>ctrl+c</c> / <c>shift+tab</c> with modifiers.
/// A ctrl/alt/win key pressed and released with nothing in between is a hotkey of its own (<c>Key.ctrl_l</c>).</item>
/// <item>Buttons 1–3 and 8+ are <c>click</c> pairs (pressed, released); a press that moved at least the drag
/// threshold adds a <c>drag</c> after its release. Wheel buttons 4–7 become <c>scroll</c>, consecutive notches
/// in one direction at one spot merged.</item>
/// </list>
/// Not thread-safe: one recorder thread feeds it (or a journal reader).
/// </summary>
internal sealed class ActionBuilder(ActionBuilderOptions options)
{
    private const HeldModifiers Chord = HeldModifiers.Ctrl | HeldModifiers.Alt | HeldModifiers.Win;
    private const HeldModifiers Named = Chord | HeldModifiers.Shift;

    private readonly List<ActionRecord> _actions = [];
    private readonly StringBuilder _typed = new();
    private readonly Dictionary<int, HeldButton> _held = [];
    private string _typedTimestamp = "";
    private double _typedTime, _lastTypedTime;
    private ScrollAction? _scroll;
    private double _lastScrollTime;
    private InputEvent? _soloModifier;

    private sealed class HeldButton(InputEvent press)
    {
        public InputEvent Press { get; } = press;
        public long MaxDistanceSquared { get; set; }
    }

    public ActionBuilder() : this(new ActionBuilderOptions()) { }

    /// <summary>The actions finished so far, in order (typed text or a scroll still being collected is not among them).</summary>
    public IReadOnlyList<ActionRecord> Completed => _actions;

    /// <summary>Finished actions plus the one still being collected (typed text or scroll), if any.</summary>
    public int Count => _actions.Count + (_typed.Length > 0 || _scroll is not null ? 1 : 0);

    public void Add(InputEvent e)
    {
        switch (e.Event)
        {
            case InputKind.KeyPress: KeyPress(e); break;
            case InputKind.KeyRelease: KeyRelease(e); break;
            case InputKind.ButtonPress: ButtonPress(e); break;
            case InputKind.ButtonRelease: ButtonRelease(e); break;
            case InputKind.Motion: Motion(e); break;
        }
    }

    /// <summary>Ends what is being collected and returns the whole list; the builder may continue afterwards.</summary>
    public List<ActionRecord> Finish()
    {
        FlushPending();
        return _actions;
    }

    private void KeyPress(InputEvent e)
    {
        var keysym = e.Keysym ?? 0;
        var kind = KeyNames.Modifier(keysym);
        if (kind != ModifierKind.None)
        {
            // Auto-repeat of a held modifier repeats its press; it stays the same candidate.
            if (kind is ModifierKind.Ctrl or ModifierKind.Alt or ModifierKind.Win && _soloModifier?.Keycode != e.Keycode)
                _soloModifier = e;
            return;
        }
        _soloModifier = null;

        var printable = KeysymText.IsPrintable(e.Text);
        if (printable && (e.Modifiers & Chord) == 0)
        {
            Type(e);
            return;
        }
        FlushPending();
        var held = e.Modifiers & Named;
        var name = held != 0 ? InputEvent.FormatModifiers(held) + "+" + (e.Base ?? e.Key) : e.Key ?? $"<{keysym}>";
        Add(new HotkeyAction(name, e.Timestamp) { Time = e.Time });
    }

    private void KeyRelease(InputEvent e)
    {
        if (_soloModifier is not { } press || press.Keycode != e.Keycode) return;
        _soloModifier = null;
        FlushPending();
        var own = KeyNames.Modifier(press.Keysym ?? 0) switch
        {
            ModifierKind.Ctrl => HeldModifiers.Ctrl,
            ModifierKind.Alt => HeldModifiers.Alt,
            ModifierKind.Win => HeldModifiers.Win,
            _ => HeldModifiers.None,
        };
        var others = press.Modifiers & Named & ~own;
        var name = others != 0 ? InputEvent.FormatModifiers(others) + "+" + press.Base : press.Key ?? "";
        Add(new HotkeyAction(name, press.Timestamp) { Time = press.Time });
    }

    private void Type(InputEvent e)
    {
        if (_scroll is not null) FlushPending();
        if (_typed.Length > 0 && e.Time - _lastTypedTime > options.TypingPauseSeconds) FlushPending();
        if (_typed.Length == 0)
        {
            _typedTimestamp = e.Timestamp;
            _typedTime = e.Time;
        }
        _typed.Append(e.Text);
        _lastTypedTime = e.Time;
    }

    private void ButtonPress(InputEvent e)
    {
        _soloModifier = null;   // ctrl held over a click belongs to the click
        var button = e.Button ?? 0;
        if (button is >= 4 and <= 7)
        {
            Scroll(e, button);
            return;
        }
        FlushPending();
        Add(new ClickAction(e.X, e.Y, KeyNames.Button(button), true, e.Timestamp, HeldText(e)) { Time = e.Time });
        _held[button] = new HeldButton(e);
    }

    private void ButtonRelease(InputEvent e)
    {
        var button = e.Button ?? 0;
        if (button is >= 4 and <= 7) return;   // a wheel notch is its press
        FlushPending();
        Add(new ClickAction(e.X, e.Y, KeyNames.Button(button), false, e.Timestamp, HeldText(e)) { Time = e.Time });
        if (!_held.Remove(button, out var held)) return;
        Moved(held, e.X, e.Y);
        var threshold = (long)options.DragThresholdPixels * options.DragThresholdPixels;
        if (held.MaxDistanceSquared >= threshold && options.DragThresholdPixels > 0)
        {
            var p = held.Press;
            Add(new DragAction(KeyNames.Button(button), p.X, p.Y, e.X, e.Y, Math.Round(e.Time - p.Time, 6), p.Timestamp)
                { Time = p.Time });
        }
    }

    private void Motion(InputEvent e)
    {
        foreach (var held in _held.Values) Moved(held, e.X, e.Y);
    }

    private static void Moved(HeldButton held, int x, int y)
    {
        long dx = x - held.Press.X, dy = y - held.Press.Y;
        held.MaxDistanceSquared = Math.Max(held.MaxDistanceSquared, dx * dx + dy * dy);
    }

    private void Scroll(InputEvent e, int button)
    {
        var (dx, dy) = button switch
        {
            4 => (0, 1),
            5 => (0, -1),
            6 => (-1, 0),
            _ => (1, 0),
        };
        if (_typed.Length > 0) FlushPending();
        if (_scroll is { } s && s.X == e.X && s.Y == e.Y && Math.Sign(s.Dx) == dx && Math.Sign(s.Dy) == dy
            && e.Time - _lastScrollTime <= options.TypingPauseSeconds)
        {
            _scroll = s with { Dx = s.Dx + dx, Dy = s.Dy + dy };
        }
        else
        {
            FlushPending();
            _scroll = new ScrollAction(e.X, e.Y, dx, dy, e.Timestamp) { Time = e.Time };
        }
        _lastScrollTime = e.Time;
    }

    private void FlushPending()
    {
        if (_typed.Length > 0)
        {
            Add(new TypedSequenceAction(_typed.ToString(), _typedTimestamp) { Time = _typedTime });
            _typed.Clear();
        }
        if (_scroll is not null)
        {
            Add(_scroll);
            _scroll = null;
        }
    }

    private void Add(ActionRecord a) => _actions.Add(a);

    private static string? HeldText(InputEvent e) =>
        (e.Modifiers & Named) is var m and not HeldModifiers.None ? InputEvent.FormatModifiers(m) : null;
}
