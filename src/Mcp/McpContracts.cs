using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using Sandbox.Api;
using Sandbox.Input;
using Sandbox.Capture;
using Sandbox.Common;

namespace Sandbox.Mcp;

/// <summary>
/// Tool inputs built from the REST API's own contract tables (<see cref="OpenApiRoutes"/>), and MCP
/// arguments read back into the REST API's parsers, so a tool and its endpoint accept the same things.
/// </summary>
internal static class McpContracts
{
    /// <summary>An object schema from documented query parameters (less <paramref name="omit"/>), with MCP defaults overriding.</summary>
    public static JsonObject FromParameters(IEnumerable<ApiParameter> parameters, string[] omit, IReadOnlyDictionary<string, string>? defaults = null,
        IReadOnlyDictionary<string, JsonNode>? extra = null)
    {
        var properties = new JsonObject();
        foreach (var p in parameters)
        {
            if (Array.IndexOf(omit, p.Name) >= 0) continue;
            var o = new JsonObject { ["type"] = p.Type, ["description"] = p.Description };
            if (p.Enum is { } e) o["enum"] = new JsonArray(e.Select(v => (JsonNode?)JsonValue.Create(v)).ToArray());
            if (p.Minimum is { } min) o["minimum"] = min;
            if (p.Maximum is { } max) o["maximum"] = max;
            var d = defaults is not null && defaults.TryGetValue(p.Name, out var over) ? over : p.Default;
            if (d is not null) o["default"] = Typed(p.Type, d);
            properties[p.Name] = o;
        }
        if (extra is not null)
            foreach (var (name, schema) in extra) properties[name] = schema.DeepClone();
        return new JsonObject { ["type"] = "object", ["properties"] = properties, ["additionalProperties"] = false };
    }

    private static JsonNode? Typed(string type, string value) => type switch
    {
        "integer" when long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var l) => l,
        "number" when double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => d,
        "boolean" when bool.TryParse(value, out var b) => b,
        _ => value,
    };

    /// <summary>
    /// MCP arguments as the query collection the REST endpoint parses: strings, numbers and booleans as
    /// their text, number arrays comma-joined (<c>region: [x, y, w, h]</c>). Unknown names are refused.
    /// </summary>
    public static IQueryCollection AsQuery(JsonElement arguments, ICollection<string> known, IReadOnlyDictionary<string, string>? defaults = null)
    {
        var query = new Dictionary<string, StringValues>(StringComparer.Ordinal);
        if (arguments.ValueKind == JsonValueKind.Object)
        {
            foreach (var p in arguments.EnumerateObject())
            {
                if (!known.Contains(p.Name))
                    throw SandboxException.BadField(p.Name, $"{p.Name}: unknown argument (known: {string.Join(", ", known)})");
                query[p.Name] = p.Value.ValueKind switch
                {
                    JsonValueKind.String => p.Value.GetString(),
                    JsonValueKind.Number => p.Value.GetRawText(),
                    JsonValueKind.True => "true",
                    JsonValueKind.False => "false",
                    JsonValueKind.Null => StringValues.Empty,
                    JsonValueKind.Array when p.Value.EnumerateArray().All(e => e.ValueKind == JsonValueKind.Number) =>
                        string.Join(',', p.Value.EnumerateArray().Select(e => e.GetRawText())),
                    _ => throw SandboxException.BadField(p.Name, $"{p.Name} must be a string, number or boolean"),
                };
            }
        }
        if (defaults is not null)
            foreach (var (k, v) in defaults)
                query.TryAdd(k, v);
        return new QueryCollection(query);
    }
}
