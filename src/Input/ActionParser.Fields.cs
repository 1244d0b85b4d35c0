using System.Globalization;
using System.Text.Json;
using Sandbox.Capture;

namespace Sandbox.Input;

/// <summary>Reading JSON fields of an action request; every error names the field it is about.</summary>
internal sealed partial class ActionParser
{
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

    /// <summary>Text to type: every character must have a key (control characters other than \n and \t have none).</summary>
    private string TypedText(JsonElement o, string name, string prefix) => Text(o, name, prefix, typed: true);

    /// <summary>Text to paste: any Unicode (no key needs to type it), within the length limit.</summary>
    private string PastedText(JsonElement o, string name, string prefix) => Text(o, name, prefix, typed: false);

    private string Text(JsonElement o, string name, string prefix, bool typed)
    {
        var text = RequiredString(o, name, prefix);
        if (text.Length > options.MaxTextLength)
            throw new ActionInputException(prefix + name, $"is {text.Length} characters long; at most {options.MaxTextLength} are accepted (SANDBOX_ACTION_MAX_TEXT)");
        var position = 0;
        foreach (var rune in text.EnumerateRunes())
        {
            if (rune == System.Text.Rune.ReplacementChar && text[position] != '\uFFFD')
                throw new ActionInputException(prefix + name, $"has a lone surrogate at index {position}");
            if (typed && Keysyms.ForRune(rune) == Native.Xlib.NoSymbol)
                throw new ActionInputException(prefix + name, $"has the control character U+{rune.Value:X4} at index {position}, which no key types");
            position += rune.Utf16SequenceLength;
        }
        return text;
    }

    private static readonly string[] s_waitConditions = ["screen_settled", "pixel_changed", "window_exists", "window_gone", "process_exit"];

    /// <summary>
    /// wait's <c>until</c> and the other fields of POST /wait (quiet_ms, timeout_ms, window, region, pid); the
    /// Desktop area checks them further when the wait runs.
    /// </summary>
    private static Sandbox.Desktop.WaitRequest WaitCondition(JsonElement o, string prefix)
    {
        var until = RequiredString(o, "until", prefix);
        if (!s_waitConditions.Contains(until))
            throw new ActionInputException(prefix + "until", $"must be one of {string.Join(", ", s_waitConditions)}, not '{until}'");
        try
        {
            return o.Deserialize(Sandbox.Desktop.DesktopJson.Default.WaitRequest)!;
        }
        catch (JsonException e)
        {
            throw new ActionInputException(prefix + (e.Path is { Length: > 2 } p ? p[2..] : "until"), "does not match POST /wait's fields: " + e.Message);
        }
    }

    /// <summary>type's "method": keys (default), paste or auto.</summary>
    private static TypeMethod Method(JsonElement o, string prefix)
    {
        if (!Present(o, "method", out var v)) return TypeMethod.Keys;
        return v.ValueKind == JsonValueKind.String ? v.GetString() switch
        {
            "keys" => TypeMethod.Keys,
            "paste" => TypeMethod.Paste,
            "auto" => TypeMethod.Auto,
            var other => throw new ActionInputException(prefix + "method", $"must be keys, paste or auto, not '{other}'"),
        } : throw new ActionInputException(prefix + "method", $"must be a string, not {Kind(v)}");
    }

    private static bool? OptionalBool(JsonElement o, string name, string prefix)
    {
        if (!Present(o, name, out var v)) return null;
        return v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw new ActionInputException(prefix + name, $"must be a boolean, not {Kind(v)}"),
        };
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
