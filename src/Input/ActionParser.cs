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
internal sealed partial class ActionParser(InputOptions options, int maxImageEdge)
{
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
            if (Present(a, "element", out _) || Present(p, "element", out _))
                throw new ActionInputException((Present(a, "element", out _) ? prefix : pPrefix) + "element", "is only understood with \"action\" (Anthropic's vocabulary), not with action_type");
            var label = prefix.Length == 0 ? n : $"{prefix.TrimEnd('.')} ({n})";
            return ParseOsWorld(p, n, pPrefix, prefix) with { Index = index, Label = label };
        }
        throw new ActionInputException(prefix + "action", "is required: one of " + string.Join(", ", AnthropicActions) +
            " (or \"action_type\": one of " + string.Join(", ", OsWorldActions) + ")");
    }

    // ---- /screenshot parameters inside JSON ----

    private ScreenshotRequest ParseScreenshot(JsonElement o, string prefix, string[] skip)
    {
        var query = new Dictionary<string, StringValues>(StringComparer.Ordinal);
        if (o.ValueKind == JsonValueKind.Object)
        {
            foreach (var prop in o.EnumerateObject())
            {
                if (skip.Contains(prop.Name) || !ScreenshotRequest.ParameterNames.Contains(prop.Name)) continue;
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


    /// <summary>A screenshot without its own size is taken at the size of the request's coordinate space.</summary>
    private static ScreenshotRequest WithSpaceSize(ScreenshotRequest r, JsonElement? own, CoordinateSpace space)
    {
        var hasOwn = own is { ValueKind: JsonValueKind.Object } o && (o.TryGetProperty("max_width", out _) || o.TryGetProperty("max_height", out _));
        return hasOwn || space.MaxWidth is null && space.MaxHeight is null ? r : r with { MaxWidth = space.MaxWidth, MaxHeight = space.MaxHeight };
    }
}
