using Sandbox.Recording;
using Sandbox.Display;

namespace Sandbox.Tests.Recording;

/// <summary>Synthetic event streams, as the capture would resolve them on a US layout.</summary>
internal sealed class Events
{
    private readonly List<InputEvent> _list = [];
    private long _seq;
    public double Time { get; set; }

    public IReadOnlyList<InputEvent> List => _list;

    private InputEvent Add(InputKind kind, int x = 0, int y = 0)
    {
        var e = new InputEvent
        {
            Seq = ++_seq,
            Event = kind,
            Time = Time,
            Timestamp = $"t{Time:0.000}",
            X = x,
            Y = y,
        };
        _list.Add(e);
        return e;
    }

    /// <summary>A key with its keysym, typed text, names and held modifiers.</summary>
    public Events Key(bool press, int keycode, uint keysym, HeldModifiers held = HeldModifiers.None, string? baseName = null)
    {
        var text = KeysymText.Text(keysym);
        var e = Add(press ? InputKind.KeyPress : InputKind.KeyRelease);
        e.Keycode = keycode;
        e.Keysym = keysym;
        e.Text = text;
        e.Key = KeyNames.Pynput(keysym, text);
        e.Base = baseName ?? KeyNames.Combo(keysym, null);
        e.Modifiers = held;
        return this;
    }

    public Events Tap(int keycode, uint keysym, HeldModifiers held = HeldModifiers.None, string? baseName = null, double step = 0.05) =>
        Key(true, keycode, keysym, held, baseName).Key(false, keycode, keysym, held, baseName).Wait(step);

    /// <summary>Types ASCII text the way xdotool does: shift pressed around upper-case and shifted symbols.</summary>
    public Events Type(string text, double step = 0.05)
    {
        foreach (var c in text)
        {
            var shifted = char.IsUpper(c) || "!@#$%^&*()_+{}|:\"<>?~".Contains(c);
            if (shifted) Key(true, 50, 0xffe1);
            Tap(100 + c, c, shifted ? HeldModifiers.Shift : HeldModifiers.None, char.ToLowerInvariant(c).ToString(), step);
            if (shifted) Key(false, 50, 0xffe1, HeldModifiers.Shift);
        }
        return this;
    }

    public Events Button(bool press, int button, int x, int y, HeldModifiers held = HeldModifiers.None)
    {
        var e = Add(press ? InputKind.ButtonPress : InputKind.ButtonRelease, x, y);
        e.Button = button;
        e.Modifiers = held;
        return this;
    }

    public Events Click(int button, int x, int y, HeldModifiers held = HeldModifiers.None) =>
        Button(true, button, x, y, held).Wait(0.02).Button(false, button, x, y, held).Wait(0.02);

    public Events Move(int x, int y)
    {
        Add(InputKind.Motion, x, y);
        return Wait(0.01);
    }

    public Events Wait(double seconds)
    {
        Time = Math.Round(Time + seconds, 6);
        return this;
    }

    public List<ActionRecord> Build(ActionBuilderOptions? options = null)
    {
        var b = new ActionBuilder(options ?? new ActionBuilderOptions());
        foreach (var e in _list) b.Add(e);
        return b.Finish();
    }
}
