using System.Globalization;
using System.Text.Json;
using Sandbox.Capture;

namespace Sandbox.Input;

/// <summary>
/// OSWorld's computer_13 vocabulary (pyautogui-style names):
/// <c>{"action_type": "CLICK", "parameters": {"x": .., "y": ..}}</c>.
/// </summary>
internal sealed partial class ActionParser
{
    /// <summary>OSWorld's action_type vocabulary (the OpenAPI document reads this list).</summary>
    internal static readonly string[] OsWorldActions =
    [
        "CLICK", "RIGHT_CLICK", "DOUBLE_CLICK", "MOVE_TO", "TYPING", "PRESS", "HOTKEY", "SCROLL", "DRAG_TO",
        "MOUSE_DOWN", "MOUSE_UP", "KEY_DOWN", "KEY_UP", "WAIT",
    ];

    private ComputerAction ParseOsWorld(JsonElement p, string name, string prefix, string actionPrefix)
    {
        ComputerAction New(ActionKind kind) => new(0, name, kind);
        switch (name)
        {
            case "MOVE_TO":
                return New(ActionKind.MouseMove) with { Coordinate = RequiredXY(p, prefix) };
            case "CLICK":
                return New(ActionKind.Click) with
                {
                    Coordinate = OptionalXY(p, prefix),
                    Button = Button(p, prefix),
                    Clicks = OptionalInt(p, "num_clicks", prefix, 1, options.MaxRepeat) ?? 1,
                };
            case "RIGHT_CLICK":
                return New(ActionKind.Click) with { Coordinate = OptionalXY(p, prefix), Button = MouseButton.Right };
            case "DOUBLE_CLICK":
                return New(ActionKind.Click) with { Coordinate = OptionalXY(p, prefix), Clicks = 2 };
            case "MOUSE_DOWN" or "MOUSE_UP":
                return New(name == "MOUSE_DOWN" ? ActionKind.MouseDown : ActionKind.MouseUp) with
                {
                    Coordinate = OptionalXY(p, prefix),
                    Button = Button(p, prefix),
                };
            case "DRAG_TO":
                return New(ActionKind.Drag) with { Coordinate = RequiredXY(p, prefix) };
            case "SCROLL":
            {
                // pyautogui: positive dy scrolls up, positive dx scrolls right.
                var dx = OptionalInt(p, "dx", prefix, -options.MaxRepeat, options.MaxRepeat) ?? 0;
                var dy = OptionalInt(p, "dy", prefix, -options.MaxRepeat, options.MaxRepeat) ?? 0;
                if (!p.TryGetProperty("dx", out _) && !p.TryGetProperty("dy", out _))
                    throw new ActionInputException(prefix + "dy", "is required (or dx): wheel clicks, positive up/right");
                return New(ActionKind.Scroll) with { Coordinate = OptionalXY(p, prefix), ScrollX = dx, ScrollY = -dy };
            }
            case "TYPING":
                return New(ActionKind.Type) with { Text = TypedText(p, "text", prefix), DelayMs = options.TypeDelayMs };
            case "PRESS":
            {
                // pyautogui.press takes one key name or a list of them, pressed one after another.
                if (!p.TryGetProperty("key", out var key)) throw new ActionInputException(prefix + "key", "is required");
                var names = StringOrList(key, prefix + "key");
                return New(ActionKind.Key) with
                {
                    Chords = names.Select((n, i) => new KeyChord([Resolve(n, $"{prefix}key")])).ToArray(),
                    DelayMs = options.TypeDelayMs,
                };
            }
            case "KEY_DOWN" or "KEY_UP":
            {
                var key = RequiredString(p, "key", prefix);
                return New(name == "KEY_DOWN" ? ActionKind.KeyDown : ActionKind.KeyUp) with
                {
                    Chords = [new KeyChord([Resolve(key, prefix + "key")])],
                };
            }
            case "HOTKEY":
            {
                if (!p.TryGetProperty("keys", out var keys)) throw new ActionInputException(prefix + "keys", "is required (a list of key names)");
                KeyChord chord = keys.ValueKind == JsonValueKind.String
                    ? KeyNames.ParseChord(keys.GetString()!, prefix + "keys")
                    : new KeyChord(StringOrList(keys, prefix + "keys").Select((n, i) => Resolve(n, $"{prefix}keys[{i}]")).ToArray());
                if (chord.Keys.Count == 0) throw new ActionInputException(prefix + "keys", "names no key");
                return New(ActionKind.Key) with { Chords = [chord] };
            }
            case "WAIT":
            {
                TimeSpan? d = null;
                foreach (var field in (ReadOnlySpan<string>)["duration", "seconds", "time"])
                    if (p.TryGetProperty(field, out _)) { d = RequiredDuration(p, field, prefix); break; }
                return New(ActionKind.Wait) with { Duration = d ?? TimeSpan.FromMilliseconds(options.OsWorldWaitMs) };
            }
            default:
                throw new ActionInputException(actionPrefix + "action_type", $"unknown action type '{name}'; known: {string.Join(", ", OsWorldActions)}");
        }
    }
}
