using Sandbox.Capture;

namespace Sandbox.Input;

internal enum ActionKind
{
    Key, KeyDown, KeyUp, HoldKey, Type,
    MouseMove, Click, Drag, MouseDown, MouseUp, Scroll,
    Wait, CursorPosition, Screenshot, Zoom, PasteText,
}

/// <summary>How a type action enters its text: key events, the clipboard and ctrl+v, or keys when the keymap can type it all.</summary>
internal enum TypeMethod { Keys, Paste, Auto }

/// <summary>X core button numbers; 4–7 are the wheel (up, down, left, right).</summary>
internal enum MouseButton { Left = 1, Middle = 2, Right = 3 }

/// <summary>A point as the client gave it, in its coordinate space (see <see cref="CoordinateSpace"/>).</summary>
internal readonly record struct ClientPoint(double X, double Y)
{
    public override string ToString() => FormattableString.Invariant($"[{X}, {Y}]");
}

/// <summary>
/// One validated action. <see cref="Name"/> is the name the client used ("left_click", "CLICK"), kept
/// for results and messages; the other members are what the executor needs.
/// </summary>
internal sealed record ComputerAction(int Index, string Name, ActionKind Kind)
{
    /// <summary>"actions[3] (left_click)" or "left_click": how messages name this action.</summary>
    public string Label { get; init; } = Name;

    public ClientPoint? Coordinate { get; init; }
    /// <summary>
    /// Instead of <see cref="Coordinate"/>: an accessibility element id; the action acts on the centre of the
    /// element's bounds as they are when it runs (for a drag, its end).
    /// </summary>
    public int? Element { get; init; }
    /// <summary>Drag start; null drags from where the pointer is (OSWorld DRAG_TO).</summary>
    public ClientPoint? Start { get; init; }
    public MouseButton Button { get; init; } = MouseButton.Left;
    public int Clicks { get; init; } = 1;

    /// <summary>Keys to press in order (key, PRESS, HOTKEY), or held around a click/scroll, or held for hold_key.</summary>
    public IReadOnlyList<KeyChord> Chords { get; init; } = [];
    public KeyChord? Held { get; init; }
    public string? Text { get; init; }
    /// <summary>Milliseconds between typed characters or pressed chords; 0 sends them at once.</summary>
    public int DelayMs { get; init; }
    /// <summary>type: keys, paste or auto.</summary>
    public TypeMethod Method { get; init; } = TypeMethod.Keys;
    /// <summary>paste_text (and type by paste): put the previous clipboard content back after the paste.</summary>
    public bool Restore { get; init; } = true;

    /// <summary>Wheel clicks: positive <see cref="ScrollY"/> is down, positive <see cref="ScrollX"/> is right.</summary>
    public int ScrollX { get; init; }
    public int ScrollY { get; init; }

    public TimeSpan Duration { get; init; }
    /// <summary>wait with <c>until</c>: a /wait condition (screen_settled, window_exists ...) instead of <see cref="Duration"/>.</summary>
    public Sandbox.Desktop.WaitRequest? Until { get; init; }

    public ScreenshotRequest? Screenshot { get; init; }
    /// <summary>Zoom: [x0, y0, x1, y1] corners in the client's coordinate space.</summary>
    public (ClientPoint TopLeft, ClientPoint BottomRight)? ZoomRegion { get; init; }
}

/// <summary>What one request asks for: actions in order, their coordinate space, and an optional final screenshot.</summary>
internal sealed record ActionBatch(IReadOnlyList<ComputerAction> Actions, CoordinateSpace Space)
{
    public ScreenshotRequest? ScreenshotAfter { get; init; }
    public int SettleMs { get; init; }
}
