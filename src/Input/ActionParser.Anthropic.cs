using System.Globalization;
using System.Text.Json;
using Sandbox.Capture;

namespace Sandbox.Input;

/// <summary>Anthropic's computer-use vocabulary: <c>{"action": "left_click", "coordinate": [x, y]}</c>.</summary>
internal sealed partial class ActionParser
{
    /// <summary>The Anthropic computer-use vocabulary (the OpenAPI document and the live view read this list).</summary>
    internal static readonly string[] AnthropicActions =
    [
        "key", "type", "mouse_move", "left_click", "right_click", "middle_click", "double_click", "triple_click",
        "left_click_drag", "left_mouse_down", "left_mouse_up", "scroll", "hold_key", "wait", "cursor_position",
        "screenshot", "zoom", "paste_text",
    ];

    /// <summary>The actions that may name an accessibility element (<c>"element": id</c>) instead of a coordinate.</summary>
    private static readonly string[] s_elementTargets =
    [
        "mouse_move", "left_click", "right_click", "middle_click", "double_click", "triple_click", "left_click_drag",
        "left_mouse_down", "left_mouse_up", "scroll",
    ];

    /// <summary>
    /// Where a pointer action acts: <c>coordinate</c>, or <c>element</c> (an id from /accessibility, whose current
    /// bounds' centre is resolved when the action runs), never both. A required target needs one of them.
    /// </summary>
    private static (ClientPoint? Point, int? Element) Target(JsonElement a, string prefix, bool required)
    {
        var element = OptionalInt(a, "element", prefix, 1, int.MaxValue);
        if (element is not null)
        {
            if (Present(a, "coordinate", out _))
                throw new ActionInputException(prefix + "element", "give either element or coordinate, not both");
            return (null, element);
        }
        if (required && !Present(a, "coordinate", out _))
            throw new ActionInputException(prefix + "coordinate", "is required: [x, y] (or \"element\": an accessibility element id)");
        return (OptionalPoint(a, "coordinate", prefix), null);
    }

    private ComputerAction ParseAnthropic(JsonElement a, string name, string prefix, CoordinateSpace space)
    {
        ComputerAction New(ActionKind kind) => new(0, name, kind);
        if (Present(a, "element", out _) && !s_elementTargets.Contains(name))
            throw new ActionInputException(prefix + "element", $"only {string.Join(", ", s_elementTargets)} act on an element, not {name}");
        switch (name)
        {
            case "key":
                return New(ActionKind.Key) with
                {
                    Chords = KeyNames.ParseSequence(RequiredString(a, "text", prefix), prefix + "text"),
                    DelayMs = OptionalInt(a, "delay_ms", prefix, 0, options.MaxDurationMs) ?? options.TypeDelayMs,
                };
            case "type":
                return New(ActionKind.Type) with
                {
                    Text = Method(a, prefix) != TypeMethod.Keys ? PastedText(a, "text", prefix) : TypedText(a, "text", prefix),
                    DelayMs = OptionalInt(a, "delay_ms", prefix, 0, options.MaxDurationMs) ?? options.TypeDelayMs,
                    Method = Method(a, prefix),
                    Restore = OptionalBool(a, "restore", prefix) ?? true,
                };
            case "paste_text":
                return New(ActionKind.PasteText) with
                {
                    Text = PastedText(a, "text", prefix),
                    Restore = OptionalBool(a, "restore", prefix) ?? true,
                };
            case "mouse_move":
            {
                var (point, element) = Target(a, prefix, required: true);
                return New(ActionKind.MouseMove) with { Coordinate = point, Element = element };
            }
            case "left_click" or "right_click" or "middle_click" or "double_click" or "triple_click":
            {
                var (point, element) = Target(a, prefix, required: false);
                return New(ActionKind.Click) with
                {
                    Coordinate = point,
                    Element = element,
                    Button = name switch { "right_click" => MouseButton.Right, "middle_click" => MouseButton.Middle, _ => MouseButton.Left },
                    Clicks = name switch { "double_click" => 2, "triple_click" => 3, _ => 1 },
                    Held = OptionalChord(a, "text", prefix),
                };
            }
            case "left_click_drag":
            {
                var start = OptionalPoint(a, "start_coordinate", prefix);
                var (point, element) = Target(a, prefix, required: true);
                return New(ActionKind.Drag) with
                {
                    Start = start,
                    Coordinate = point,
                    Element = element,
                    Held = OptionalChord(a, "text", prefix),
                };
            }
            case "left_mouse_down" or "left_mouse_up":
            {
                var (point, element) = Target(a, prefix, required: false);
                return New(name == "left_mouse_down" ? ActionKind.MouseDown : ActionKind.MouseUp) with
                {
                    Coordinate = point,
                    Element = element,
                };
            }
            case "scroll":
            {
                var direction = RequiredString(a, "scroll_direction", prefix);
                var amount = RequiredInt(a, "scroll_amount", prefix, 0, options.MaxRepeat);
                var (sx, sy) = direction switch
                {
                    "up" => (0, -amount),
                    "down" => (0, amount),
                    "left" => (-amount, 0),
                    "right" => (amount, 0),
                    _ => throw new ActionInputException(prefix + "scroll_direction", $"must be up, down, left or right, not '{direction}'"),
                };
                var (point, element) = Target(a, prefix, required: false);
                return New(ActionKind.Scroll) with
                {
                    Coordinate = point,
                    Element = element,
                    ScrollX = sx,
                    ScrollY = sy,
                    Held = OptionalChord(a, "text", prefix),
                };
            }
            case "hold_key":
                return New(ActionKind.HoldKey) with
                {
                    Chords = KeyNames.ParseSequence(RequiredString(a, "text", prefix), prefix + "text"),
                    Duration = RequiredDuration(a, "duration", prefix),
                };
            case "wait" when Present(a, "until", out _):
                if (Present(a, "duration", out _))
                    throw new ActionInputException(prefix + "duration", "give either duration or until, not both");
                return New(ActionKind.Wait) with { Until = WaitCondition(a, prefix) };
            case "wait":
                return New(ActionKind.Wait) with { Duration = RequiredDuration(a, "duration", prefix) };
            case "cursor_position":
                return New(ActionKind.CursorPosition);
            case "screenshot":
                return New(ActionKind.Screenshot) with
                {
                    Screenshot = WithSpaceSize(ParseScreenshot(a, prefix, ["action"]), a, space),
                };
            case "zoom":
            {
                var region = RequiredNumbers(a, "region", prefix, 4, "[x0, y0, x1, y1]");
                if (!(region[2] > region[0] && region[3] > region[1]))
                    throw new ActionInputException(prefix + "region", "must be [x0, y0, x1, y1] with x1 > x0 and y1 > y0");
                // The zoom shows its region at full resolution unless the action asks for a size; the
                // pointer box would hide what the agent wants to look at, so annotate is off by default.
                var shot = ParseScreenshot(a, prefix, ["action", "region"]);
                if (!a.TryGetProperty("annotate", out _)) shot = shot with { Annotate = false };
                return New(ActionKind.Zoom) with
                {
                    ZoomRegion = (new ClientPoint(region[0], region[1]), new ClientPoint(region[2], region[3])),
                    Screenshot = shot,
                };
            }
            default:
                throw new ActionInputException(prefix + "action", $"unknown action '{name}'; known: {string.Join(", ", AnthropicActions)}");
        }
    }
}
