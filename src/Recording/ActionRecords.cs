using System.Text.Json.Serialization;

namespace Sandbox.Recording;

/// <summary>
/// One entry of <c>actions-&lt;ts&gt;.json</c>. The first three shapes are the old suite's, key for key;
/// scroll and drag are new. <c>event</c> is written first, then the fields in declaration order.
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "event")]
[JsonDerivedType(typeof(ClickAction), "click")]
[JsonDerivedType(typeof(TypedSequenceAction), "typed_sequence")]
[JsonDerivedType(typeof(HotkeyAction), "hotkey")]
[JsonDerivedType(typeof(ScrollAction), "scroll")]
[JsonDerivedType(typeof(DragAction), "drag")]
internal abstract record ActionRecord(string Timestamp)
{
    /// <summary>Seconds since the recording started, for ordering and pauses; not written.</summary>
    [JsonIgnore]
    public double Time { get; init; }
}

/// <summary>A button going down or up. <c>modifiers</c> ("ctrl+shift") only when some were held: ctrl-click.</summary>
internal sealed record ClickAction(int X, int Y, string Button, bool Pressed, string Timestamp, string? Modifiers = null)
    : ActionRecord(Timestamp);

/// <summary>Printable keys typed without ctrl/alt/win, grouped until a pause or another kind of input.</summary>
internal sealed record TypedSequenceAction(string Text, string Timestamp) : ActionRecord(Timestamp);

/// <summary><c>Key.enter</c>, <c>Key.ctrl_l</c> for one key; <c>ctrl+c</c>, <c>ctrl+shift+t</c>, <c>alt+f4</c> for combinations.</summary>
internal sealed record HotkeyAction(string Key, string Timestamp) : ActionRecord(Timestamp);

/// <summary>Wheel notches at one position, in pynput's sense: dy = +1 per notch up, dx = +1 per notch right.</summary>
internal sealed record ScrollAction(int X, int Y, int Dx, int Dy, string Timestamp) : ActionRecord(Timestamp);

/// <summary>
/// A press that moved at least the drag threshold before its release. It summarises the click pair just
/// before it (pressed at x,y; released at end_x,end_y): replay either the pair or the drag, not both.
/// </summary>
internal sealed record DragAction(string Button, int X, int Y, int EndX, int EndY, double Duration, string Timestamp)
    : ActionRecord(Timestamp);
