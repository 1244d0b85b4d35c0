using Sandbox.Common;
using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using Sandbox.Capture;

namespace Sandbox.Input;

/// <summary>Bad input in an action request; the message starts with the field it is about.</summary>
internal sealed class ActionInputException(string field, string message) : Exception($"{field}: {message}")
{
    public string Field { get; } = field;
}

/// <summary>
/// Reads action requests: Anthropic's computer-use vocabulary (<c>{"action": "left_click", "coordinate": [x, y]}</c>)
/// and OSWorld's computer_13 (<c>{"action_type": "CLICK", "parameters": {"x": .., "y": ..}}</c>). Everything is
/// validated before anything runs, so a malformed request never half-executes; the error names the field.
/// </summary>
internal sealed class ActionParser(InputOptions options, int maxImageEdge)
{
    private static readonly string[] s_anthropic =
    [
        "key", "type", "mouse_move", "left_click", "right_click", "middle_click", "double_click", "triple_click",
        "left_click_drag", "left_mouse_down", "left_mouse_up", "scroll", "hold_key", "wait", "cursor_position",
        "screenshot", "zoom",
    ];

    private static readonly string[] s_osworld =
    [
        "CLICK", "RIGHT_CLICK", "DOUBLE_CLICK", "MOVE_TO", "TYPING", "PRESS", "HOTKEY", "SCROLL", "DRAG_TO",
        "MOUSE_DOWN", "MOUSE_UP", "KEY_DOWN", "KEY_UP", "WAIT",
    ];

    /// <summary>POST /computer/actions: <c>{"actions": [...], ...}</c> or a bare list.</summary>
    public ActionBatch ParseBatch(JsonElement root)
    {
        JsonElement list;
        if (root.ValueKind == JsonValueKind.Array)
        {
            list = root;
        }
        else if (root.ValueKind == JsonValueKind.Object)
        {
            if (!root.TryGetProperty("actions", out list)) throw new ActionInputException("actions", "is required (a list of actions)");
            if (list.ValueKind != JsonValueKind.Array) throw new ActionInputException("actions", $"must be a list, not {Kind(list)}");
        }
        else
        {
            throw new ActionInputException("body", "must be a JSON object with \"actions\", or a list of actions");
        }

        var count = list.GetArrayLength();
        if (count > options.MaxActions)
            throw new ActionInputException("actions", $"has {count} actions; at most {options.MaxActions} are accepted (SANDBOX_ACTION_MAX_ACTIONS)");
        var space = root.ValueKind == JsonValueKind.Object ? ParseSpace(root, "") : CoordinateSpace.Screen;
        var actions = new List<ComputerAction>(count);
        var i = 0;
        foreach (var item in list.EnumerateArray())
        {
            actions.Add(ParseAction(item, i, $"actions[{i}].", space));
            i++;
        }
        return Finish(new ActionBatch(actions, space), root.ValueKind == JsonValueKind.Object ? root : default, "");
    }

    /// <summary>POST /computer/action: one action object, which may also carry the request-level fields.</summary>
    public ActionBatch ParseSingle(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
            throw new ActionInputException("body", $"must be a JSON object describing one action, not {Kind(root)}");
        var space = ParseSpace(root, "");
        var action = ParseAction(root, 0, "", space);
        return Finish(new ActionBatch([action], space), root, "");
    }

    private ActionBatch Finish(ActionBatch batch, JsonElement root, string prefix)
    {
        if (root.ValueKind != JsonValueKind.Object) return batch;
        ScreenshotRequest? after = null;
        if (root.TryGetProperty("screenshot_after", out var sa))
        {
            after = sa.ValueKind switch
            {
                JsonValueKind.True => WithSpaceSize(ParseScreenshot(default, prefix + "screenshot_after.", []), null, batch.Space),
                JsonValueKind.False or JsonValueKind.Null => null,
                JsonValueKind.Object => WithSpaceSize(ParseScreenshot(sa, prefix + "screenshot_after.", []), sa, batch.Space),
                _ => throw new ActionInputException(prefix + "screenshot_after", $"must be true, false or an object of /screenshot parameters, not {Kind(sa)}"),
            };
        }
        var settle = OptionalInt(root, "settle_ms", prefix, 0, options.MaxDurationMs) ?? options.SettleMs;
        return batch with { ScreenshotAfter = after, SettleMs = settle };
    }

    private CoordinateSpace ParseSpace(JsonElement o, string prefix)
    {
        var maxW = OptionalInt(o, "max_width", prefix, 1, maxImageEdge);
        var maxH = OptionalInt(o, "max_height", prefix, 1, maxImageEdge);
        if (!o.TryGetProperty("scale", out var scale) || scale.ValueKind == JsonValueKind.Null)
            return maxW is null && maxH is null ? CoordinateSpace.Screen : new CoordinateSpace { MaxWidth = maxW, MaxHeight = maxH };
        if (maxW is not null || maxH is not null)
            throw new ActionInputException(prefix + "scale", "give either scale or max_width/max_height, not both");
        double sx, sy;
        if (scale.ValueKind == JsonValueKind.Number)
        {
            sx = sy = scale.TryGetDouble(out var one) ? one : double.NaN;
        }
        else if (scale.ValueKind == JsonValueKind.Array && scale.GetArrayLength() == 2 &&
                 scale[0].ValueKind == JsonValueKind.Number && scale[1].ValueKind == JsonValueKind.Number)
        {
            sx = scale[0].TryGetDouble(out var x) ? x : double.NaN;
            sy = scale[1].TryGetDouble(out var y) ? y : double.NaN;
        }
        else
        {
            throw new ActionInputException(prefix + "scale", $"must be a number or [x, y] as /screenshot reported it, not {Kind(scale)}");
        }
        if (!(sx > 0 && sx <= 64 && sy > 0 && sy <= 64))
            throw new ActionInputException(prefix + "scale", "must be greater than 0 and at most 64");
        return new CoordinateSpace { ScaleX = sx, ScaleY = sy };
    }

    private ComputerAction ParseAction(JsonElement a, int index, string prefix, CoordinateSpace space)
    {
        if (a.ValueKind != JsonValueKind.Object)
            throw new ActionInputException(prefix.TrimEnd('.'), $"must be an action object, not {Kind(a)}");
        if (a.TryGetProperty("action", out var name))
        {
            if (name.ValueKind != JsonValueKind.String) throw new ActionInputException(prefix + "action", $"must be a string, not {Kind(name)}");
            var n = name.GetString()!;
            var label = prefix.Length == 0 ? n : $"{prefix.TrimEnd('.')} ({n})";
            return ParseAnthropic(a, n, prefix, space) with { Index = index, Label = label };
        }
        if (a.TryGetProperty("action_type", out var type))
        {
            if (type.ValueKind != JsonValueKind.String) throw new ActionInputException(prefix + "action_type", $"must be a string, not {Kind(type)}");
            var n = type.GetString()!;
            var p = a;
            var pPrefix = prefix;
            if (a.TryGetProperty("parameters", out var parameters) && parameters.ValueKind != JsonValueKind.Null)
            {
                if (parameters.ValueKind != JsonValueKind.Object)
                    throw new ActionInputException(prefix + "parameters", $"must be an object, not {Kind(parameters)}");
                p = parameters;
                pPrefix = prefix + "parameters.";
            }
            var label = prefix.Length == 0 ? n : $"{prefix.TrimEnd('.')} ({n})";
            return ParseOsWorld(p, n, pPrefix, prefix) with { Index = index, Label = label };
        }
        throw new ActionInputException(prefix + "action", "is required: one of " + string.Join(", ", s_anthropic) +
            " (or \"action_type\": one of " + string.Join(", ", s_osworld) + ")");
    }

    private ComputerAction ParseAnthropic(JsonElement a, string name, string prefix, CoordinateSpace space)
    {
        ComputerAction New(ActionKind kind) => new(0, name, kind);
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
                    Text = TypedText(a, "text", prefix),
                    DelayMs = OptionalInt(a, "delay_ms", prefix, 0, options.MaxDurationMs) ?? options.TypeDelayMs,
                };
            case "mouse_move":
                return New(ActionKind.MouseMove) with { Coordinate = RequiredPoint(a, "coordinate", prefix) };
            case "left_click" or "right_click" or "middle_click" or "double_click" or "triple_click":
                return New(ActionKind.Click) with
                {
                    Coordinate = OptionalPoint(a, "coordinate", prefix),
                    Button = name switch { "right_click" => MouseButton.Right, "middle_click" => MouseButton.Middle, _ => MouseButton.Left },
                    Clicks = name switch { "double_click" => 2, "triple_click" => 3, _ => 1 },
                    Held = OptionalChord(a, "text", prefix),
                };
            case "left_click_drag":
                return New(ActionKind.Drag) with
                {
                    Start = OptionalPoint(a, "start_coordinate", prefix),
                    Coordinate = RequiredPoint(a, "coordinate", prefix),
                    Held = OptionalChord(a, "text", prefix),
                };
            case "left_mouse_down" or "left_mouse_up":
                return New(name == "left_mouse_down" ? ActionKind.MouseDown : ActionKind.MouseUp) with
                {
                    Coordinate = OptionalPoint(a, "coordinate", prefix),
                };
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
                return New(ActionKind.Scroll) with
                {
                    Coordinate = OptionalPoint(a, "coordinate", prefix),
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
                throw new ActionInputException(prefix + "action", $"unknown action '{name}'; known: {string.Join(", ", s_anthropic)}");
        }
    }

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
                throw new ActionInputException(actionPrefix + "action_type", $"unknown action type '{name}'; known: {string.Join(", ", s_osworld)}");
        }
    }

    // ---- /screenshot parameters inside JSON ----

    private ScreenshotRequest ParseScreenshot(JsonElement o, string prefix, string[] skip)
    {
        var query = new Dictionary<string, StringValues>(StringComparer.Ordinal);
        if (o.ValueKind == JsonValueKind.Object)
        {
            foreach (var prop in o.EnumerateObject())
            {
                if (skip.Contains(prop.Name) || !ScreenshotParameters.Contains(prop.Name)) continue;
                query[prop.Name] = prop.Value.ValueKind switch
                {
                    JsonValueKind.String => prop.Value.GetString(),
                    JsonValueKind.Number => prop.Value.GetRawText(),
                    JsonValueKind.True => "true",
                    JsonValueKind.False => "false",
                    JsonValueKind.Array when prop.Value.EnumerateArray().All(e => e.ValueKind == JsonValueKind.Number) =>
                        string.Join(',', prop.Value.EnumerateArray().Select(e => e.GetRawText())),
                    JsonValueKind.Null => StringValues.Empty,
                    _ => throw new ActionInputException(prefix + prop.Name, $"must be a string, number or boolean, not {Kind(prop.Value)}"),
                };
            }
        }
        ScreenshotRequest request;
        try
        {
            request = ScreenshotRequest.Parse(new QueryCollection(query), maxImageEdge);
        }
        catch (SandboxException e) when (e.Field is { } field)
        {
            throw new ActionInputException(prefix + field, e.Message.StartsWith(field + " ", StringComparison.Ordinal) ? e.Message[(field.Length + 1)..] : e.Message);
        }
        if (request.Response == ScreenshotResponse.Image)
            throw new ActionInputException(prefix + "response", "must be 'json' or 'base64' here (the answer is JSON)");
        return request;
    }

    private static readonly string[] ScreenshotParameters =
        ["method", "format", "quality", "cursor", "annotate", "region", "max_width", "max_height", "response"];

    /// <summary>A screenshot without its own size is taken at the size of the request's coordinate space.</summary>
    private static ScreenshotRequest WithSpaceSize(ScreenshotRequest r, JsonElement? own, CoordinateSpace space)
    {
        var hasOwn = own is { ValueKind: JsonValueKind.Object } o && (o.TryGetProperty("max_width", out _) || o.TryGetProperty("max_height", out _));
        return hasOwn || space.MaxWidth is null && space.MaxHeight is null ? r : r with { MaxWidth = space.MaxWidth, MaxHeight = space.MaxHeight };
    }

    // ---- field readers; each names the field in its error ----

    private static string Kind(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "a list",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "nothing",
    };

    private static bool Present(JsonElement o, string name, out JsonElement v) =>
        o.TryGetProperty(name, out v) && v.ValueKind != JsonValueKind.Null;

    private static string RequiredString(JsonElement o, string name, string prefix)
    {
        if (!Present(o, name, out var v)) throw new ActionInputException(prefix + name, "is required");
        if (v.ValueKind != JsonValueKind.String) throw new ActionInputException(prefix + name, $"must be a string, not {Kind(v)}");
        return v.GetString()!;
    }

    private string TypedText(JsonElement o, string name, string prefix)
    {
        var text = RequiredString(o, name, prefix);
        if (text.Length > options.MaxTextLength)
            throw new ActionInputException(prefix + name, $"is {text.Length} characters long; at most {options.MaxTextLength} are accepted (SANDBOX_ACTION_MAX_TEXT)");
        var position = 0;
        foreach (var rune in text.EnumerateRunes())
        {
            if (rune == System.Text.Rune.ReplacementChar && text[position] != '\uFFFD')
                throw new ActionInputException(prefix + name, $"has a lone surrogate at index {position}");
            if (Keysyms.ForRune(rune) == Native.XKeyboard.NoSymbol)
                throw new ActionInputException(prefix + name, $"has the control character U+{rune.Value:X4} at index {position}, which no key types");
            position += rune.Utf16SequenceLength;
        }
        return text;
    }

    private static int? OptionalInt(JsonElement o, string name, string prefix, int min, int max)
    {
        if (!Present(o, name, out var v)) return null;
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetDouble(out var d) || d != Math.Floor(d))
            throw new ActionInputException(prefix + name, $"must be an integer, not {(v.ValueKind == JsonValueKind.Number ? v.GetRawText() : Kind(v))}");
        if (d < min || d > max) throw new ActionInputException(prefix + name, $"must be from {min} to {max}, not {v.GetRawText()}");
        return (int)d;
    }

    private static int RequiredInt(JsonElement o, string name, string prefix, int min, int max) =>
        OptionalInt(o, name, prefix, min, max) ?? throw new ActionInputException(prefix + name, "is required");

    private TimeSpan RequiredDuration(JsonElement o, string name, string prefix)
    {
        if (!Present(o, name, out var v)) throw new ActionInputException(prefix + name, "is required (seconds)");
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetDouble(out var s))
            throw new ActionInputException(prefix + name, $"must be a number of seconds, not {Kind(v)}");
        if (!(s >= 0) || s * 1000 > options.MaxDurationMs)
            throw new ActionInputException(prefix + name, $"must be from 0 to {options.MaxDurationMs / 1000.0} seconds (SANDBOX_ACTION_MAX_DURATION_MS), not {v.GetRawText()}");
        return TimeSpan.FromMilliseconds(Math.Round(s * 1000, 3));
    }

    private static double[] RequiredNumbers(JsonElement o, string name, string prefix, int count, string shape)
    {
        if (!Present(o, name, out var v)) throw new ActionInputException(prefix + name, $"is required: {shape}");
        if (v.ValueKind != JsonValueKind.Array || v.GetArrayLength() != count)
            throw new ActionInputException(prefix + name, $"must be {shape}, not {(v.ValueKind == JsonValueKind.Array ? v.GetRawText() : Kind(v))}");
        var result = new double[count];
        var i = 0;
        foreach (var e in v.EnumerateArray())
        {
            if (e.ValueKind != JsonValueKind.Number || !e.TryGetDouble(out var d) || !double.IsFinite(d))
                throw new ActionInputException(prefix + name, $"must be {shape} in numbers, not {v.GetRawText()}");
            result[i++] = d;
        }
        return result;
    }

    private static ClientPoint RequiredPoint(JsonElement o, string name, string prefix)
    {
        var v = RequiredNumbers(o, name, prefix, 2, "[x, y]");
        return new ClientPoint(v[0], v[1]);
    }

    private static ClientPoint? OptionalPoint(JsonElement o, string name, string prefix) =>
        Present(o, name, out _) ? RequiredPoint(o, name, prefix) : null;

    private static ClientPoint? OptionalXY(JsonElement p, string prefix)
    {
        var hasX = Present(p, "x", out var x);
        var hasY = Present(p, "y", out var y);
        if (!hasX && !hasY) return null;
        if (!hasX) throw new ActionInputException(prefix + "x", "is required when y is given");
        if (!hasY) throw new ActionInputException(prefix + "y", "is required when x is given");
        return new ClientPoint(Number(x, prefix + "x"), Number(y, prefix + "y"));
    }

    private static ClientPoint RequiredXY(JsonElement p, string prefix) =>
        OptionalXY(p, prefix) ?? throw new ActionInputException(prefix + "x", "is required (with y)");

    private static double Number(JsonElement v, string field)
    {
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetDouble(out var d) || !double.IsFinite(d))
            throw new ActionInputException(field, $"must be a number, not {Kind(v)}");
        return d;
    }

    private static MouseButton Button(JsonElement p, string prefix)
    {
        if (!Present(p, "button", out var v)) return MouseButton.Left;
        if (v.ValueKind != JsonValueKind.String) throw new ActionInputException(prefix + "button", $"must be a string, not {Kind(v)}");
        return v.GetString()!.ToLowerInvariant() switch
        {
            "left" or "primary" => MouseButton.Left,
            "right" or "secondary" => MouseButton.Right,
            "middle" or "wheel" => MouseButton.Middle,
            var other => throw new ActionInputException(prefix + "button", $"must be left, right or middle, not '{other}'"),
        };
    }

    private static KeyChord? OptionalChord(JsonElement o, string name, string prefix)
    {
        if (!Present(o, name, out var v)) return null;
        if (v.ValueKind != JsonValueKind.String) throw new ActionInputException(prefix + name, $"must be a string of keys to hold, not {Kind(v)}");
        var s = v.GetString()!;
        if (string.IsNullOrWhiteSpace(s)) return null;
        var chords = KeyNames.ParseSequence(s, prefix + name);
        return new KeyChord(chords.SelectMany(c => c.Keys).ToArray());
    }

    private static KeySpec Resolve(string name, string field) =>
        KeyNames.TryResolve(name) ?? (name.Length > 1 && name.Contains('+')
            ? throw new ActionInputException(field, $"unknown key name '{name}' (use HOTKEY for combinations)")
            : throw new ActionInputException(field, $"unknown key name '{name}'"));

    private static string[] StringOrList(JsonElement v, string field)
    {
        if (v.ValueKind == JsonValueKind.String) return [v.GetString()!];
        if (v.ValueKind != JsonValueKind.Array) throw new ActionInputException(field, $"must be a key name or a list of them, not {Kind(v)}");
        var i = 0;
        var names = new List<string>();
        foreach (var e in v.EnumerateArray())
        {
            if (e.ValueKind != JsonValueKind.String) throw new ActionInputException($"{field}[{i}]", $"must be a key name, not {Kind(e)}");
            names.Add(e.GetString()!);
            i++;
        }
        if (names.Count == 0) throw new ActionInputException(field, "names no key");
        return names.ToArray();
    }
}
