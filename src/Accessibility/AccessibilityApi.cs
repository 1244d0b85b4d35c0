using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Sandbox.Common;
using Sandbox.Web;

namespace Sandbox.Accessibility;

/// <summary>Routes of the accessibility area (docs/accessibility.md).</summary>
internal static class AccessibilityApi
{
    private static readonly string[] TreeParams = ["format", "app", "window", "visible_only", "max_depth", "max_nodes", "timeout_ms", "scale", "token"];
    private static readonly string[] FindParams = ["role", "name", "text", "states", "match", "app", "window", "visible_only", "max_results", "timeout_ms", "scale", "token"];
    private static readonly string[] AtParams = ["x", "y", "scale", "token"];

    public static IEndpointRouteBuilder MapAccessibilityApi(this IEndpointRouteBuilder app, AccessibilityService service)
    {
        app.MapGet("/accessibility", async Task<IResult> (HttpContext http) =>
        {
            Only(http.Request.Query, ["timeout_ms", "token"]);
            var tree = await service.GetTreeAsync(new TreeQuery(TimeoutMs: Timeout(http.Request.Query, service.Options)), http.RequestAborted);
            // {"AT": xml} as OsWorldAnswer serializes, written chunk by chunk (see ChunkedResult).
            return new ChunkedResult(OsWorldXml.Build(tree.Apps), "application/json; charset=utf-8", JsonProperty: "AT");
        });

        app.MapGet("/accessibility/tree", async Task<IResult> (HttpContext http) =>
        {
            var q = http.Request.Query;
            Only(q, TreeParams);
            var format = Str(q, "format") ?? "json";
            if (format is not ("json" or "xml" or "text")) throw SandboxException.BadField("format", "must be json, xml or text");
            var query = Tree(q, service.Options) with
            {
                MaxDepth = Int(q, "max_depth", 1, service.Options.MaxDepth),
                MaxNodes = Int(q, "max_nodes", 1, service.Options.MaxNodes),
                Details = format == "text" ? TextDetails : Detail.All,
            };
            var scale = Scale(q);
            var tree = await service.GetTreeAsync(query, http.RequestAborted);
            switch (format)
            {
                case "xml":
                    return new ChunkedResult(OsWorldXml.Build(tree.Apps, withIds: true, tree.Truncated ?? ""), "application/xml; charset=utf-8");
                case "text":
                    return new ChunkedResult(TextBuilder(tree, scale), "text/plain; charset=utf-8");
                default:
                    var root = new ElementJson
                    {
                        Id = 0, Role = "desktop frame", Name = "main", States = [],
                        Children = tree.Apps.Select(a => Json(a, a.Name, scale, recursive: true)).ToList(),
                    };
                    return Results.Json(new TreeAnswer(tree.Elements, Math.Round(tree.ElapsedMs, 2), tree.Truncated, root),
                        AccessibilityJson.Default.TreeAnswer);
            }
        });

        app.MapGet("/accessibility/find", async Task<IResult> (HttpContext http) =>
        {
            var q = http.Request.Query;
            Only(q, FindParams);
            var scale = Scale(q);
            var find = ParseFind(q, service.Options);
            var (matches, tree) = await service.FindAsync(find, http.RequestAborted);
            var apps = tree.Apps.SelectMany(a => a.DescendantsAndSelf().Select(n => (n, a.Name))).ToDictionary(p => p.n, p => p.Name);
            var list = matches.Select(m => Json(m, apps.GetValueOrDefault(m), scale, recursive: false)).ToList();
            return Results.Json(new FindAnswer(list.Count, Math.Round(tree.ElapsedMs, 2), tree.Truncated, list), AccessibilityJson.Default.FindAnswer);
        });

        app.MapGet("/accessibility/at", async Task<IResult> (HttpContext http) =>
        {
            var q = http.Request.Query;
            Only(q, AtParams);
            var x = Int(q, "x", int.MinValue, int.MaxValue) ?? throw SandboxException.BadField("x", "required");
            var y = Int(q, "y", int.MinValue, int.MaxValue) ?? throw SandboxException.BadField("y", "required");
            var scale = Scale(q);
            if (scale is { } f) { x = (int)Math.Floor(x / f); y = (int)Math.Floor(y / f); }
            var hit = await service.AtAsync(x, y, http.RequestAborted);
            return Results.Json(new AtAnswer(hit is null ? null : Json(hit, null, scale, recursive: false)), AccessibilityJson.Default.AtAnswer);
        });

        app.MapGet("/accessibility/elements/{id}", async Task<IResult> (HttpContext http, string id) =>
        {
            Only(http.Request.Query, ["scale", "token"]);
            var node = await service.GetElementAsync(ParseId(id), http.RequestAborted);
            return Results.Json(new AtAnswer(Json(node, null, Scale(http.Request.Query), recursive: false)), AccessibilityJson.Default.AtAnswer);
        });

        app.MapPost("/accessibility/elements/{id}/action", async Task<IResult> (HttpContext http, string id) =>
        {
            var element = ParseId(id);
            var body = await JsonBody.ReadAsync(http.Request, AccessibilityJson.Default.ActionRequest, ct: http.RequestAborted);
            var action = body!.Action ?? throw SandboxException.BadField("action", "required (do_action, focus, set_text, set_value, select)");
            var ok = await service.ActAsync(element, action, body.Name, body.Text, body.Value, http.RequestAborted);
            return Results.Json(new ActionAnswer(ok, element, action, null), AccessibilityJson.Default.ActionAnswer);
        });
        return app;
    }

    private static int ParseId(string id) =>
        int.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v > 0
            ? v : throw SandboxException.BadField("id", "must be a positive integer element id");

    /// <summary>GET /accessibility/find's parameters (the MCP find_elements tool reads the same).</summary>
    internal static FindQuery ParseFind(IQueryCollection q, AccessibilityOptions options)
    {
        var mode = (Str(q, "match") ?? "substring") switch
        {
            "exact" => MatchMode.Exact,
            "substring" => MatchMode.Substring,
            "regex" => MatchMode.Regex,
            _ => throw SandboxException.BadField("match", "must be exact, substring or regex"),
        };
        var states = Str(q, "states") is { } s ? s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) : [];
        var role = Str(q, "role");
        var name = Str(q, "name");
        var text = Str(q, "text");
        if (role is null && name is null && text is null && states.Length == 0)
            throw SandboxException.BadField("role", "give at least one of role, name, text or states");
        return new FindQuery(role, name, text, states, mode, Int(q, "max_results", 1, 10_000) ?? 100, Tree(q, options));
    }

    internal static TreeQuery Tree(IQueryCollection q, AccessibilityOptions options)
    {
        var window = Str(q, "window");
        if (window is not (null or "active" or "all")) throw SandboxException.BadField("window", "must be active or all");
        return new TreeQuery(
            App: Str(q, "app"),
            ActiveWindow: window == "active",
            VisibleOnly: Bool(q, "visible_only") ?? false,
            TimeoutMs: Timeout(q, options));
    }

    private static int? Timeout(IQueryCollection q, AccessibilityOptions options) => Int(q, "timeout_ms", 1, options.MaxTimeoutMs);

    private static void Only(IQueryCollection q, string[] allowed)
    {
        foreach (var (key, values) in q)
        {
            if (Array.IndexOf(allowed, key) < 0)
                throw SandboxException.BadField(key, $"unknown parameter '{key}' (known: {string.Join(", ", allowed.Where(a => a != "token"))})");
            if (values.Count > 1) throw SandboxException.BadField(key, "given more than once");
        }
    }

    internal static string? Str(IQueryCollection q, string key) => q.TryGetValue(key, out var v) && v.Count > 0 && !string.IsNullOrEmpty(v[0]) ? v[0] : null;

    internal static int? Int(IQueryCollection q, string key, int min, int max)
    {
        if (Str(q, key) is not { } s) return null;
        if (int.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v) && v >= min && v <= max) return v;
        throw SandboxException.BadField(key, $"must be an integer from {min} to {max}");
    }

    private static bool? Bool(IQueryCollection q, string key) => Str(q, key) is not { } s ? null
        : Lookup.Flag(s) ?? throw SandboxException.BadField(key, "must be true or false");

    internal static double? Scale(IQueryCollection q)
    {
        if (Str(q, "scale") is not { } s) return null;
        if (double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && v > 0 && v <= 16) return v;
        throw SandboxException.BadField("scale", "must be a number above 0 and at most 16 (screenshot pixels per screen pixel)");
    }

    private static int[]? Bounds(AccessibleNode n) =>
        n.IsShowing && n.Extents is { } e ? [e.X, e.Y, e.W, e.H] : null;

    private static int[]? ScaledBounds(int[]? b, double? scale) =>
        b is null || scale is not { } f ? null
            : [(int)Math.Round(b[0] * f), (int)Math.Round(b[1] * f), (int)Math.Round(b[2] * f), (int)Math.Round(b[3] * f)];

    private static ElementJson Json(AccessibleNode n, string? app, double? scale, bool recursive)
    {
        var bounds = Bounds(n);
        Dictionary<string, string>? attrs = null;
        if (n.Attributes is { Count: > 0 } a)
        {
            attrs = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (k, val) in a) attrs[k] = val;
        }
        return new ElementJson
        {
            Id = n.Id,
            Role = n.RoleName,
            Name = n.Name,
            Description = n.Description.Length > 0 ? n.Description : null,
            States = n.StateNames().ToArray(),
            Bounds = bounds,
            ScaledBounds = ScaledBounds(bounds, scale),
            Text = n.Text is { Length: > 0 } t ? t : null,
            Value = n.Value is { } v ? new ValueJson(v.Current, v.Minimum, v.Maximum, v.Step) : null,
            Actions = n.Actions is { Length: > 0 } acts ? acts.Select(x => x.Name).ToArray() : null,
            Attributes = attrs,
            App = recursive ? null : app,
            Truncated = n.Truncated,
            Children = recursive && n.Children.Count > 0 ? n.Children.Select(c => Json(c, app, scale, true)).ToList() : null,
        };
    }

    private static readonly string[] TextStates = ["focused", "selected", "checked", "pressed", "expanded", "collapsed", "active", "editable", "modal", "indeterminate"];

    /// <summary>What the text format shows of each element beyond role, name and states (no attributes): what its walk reads.</summary>
    internal const Detail TextDetails = Detail.Extents | Detail.Text | Detail.Value | Detail.Actions;

    /// <summary>
    /// One line per element, indented by depth: <c>[id] role "name" text/value {states} @x,y wxh actions=</c>. States
    /// shown are those that change what an agent does (focused, checked, ...), plus <c>disabled</c> for an
    /// element that is neither enabled nor sensitive and <c>hidden</c> for one not showing.
    /// </summary>
    internal static string TextFormat(DesktopTree tree, double? scale) => TextBuilder(tree, scale).ToString();

    private static StringBuilder TextBuilder(DesktopTree tree, double? scale)
    {
        var sb = new StringBuilder(Math.Min(tree.Elements * 48, 4096));
        if (tree.Truncated is not null) sb.Append("# truncated: ").Append(tree.Truncated).Append('\n');
        foreach (var app in tree.Apps)
            foreach (var n in app.DescendantsAndSelf())
            {
                sb.Append(' ', (n.Depth - 1) * 2);
                sb.Append('[').Append(n.Id.ToString(CultureInfo.InvariantCulture)).Append("] ").Append(n.RoleName);
                if (n.Name.Length > 0) Quoted(sb.Append(' '), n.Name);
                if (n.Text is { Length: > 0 } t && t != n.Name) Quoted(sb.Append(" text="), t.Length > 200 ? t[..200] + "…" : t);
                if (n.Value is { } v) sb.Append(" value=").Append(OsWorldXml.PythonFloat(v.Current));
                var states = n.StateNames().Where(s => Array.IndexOf(TextStates, s) >= 0).ToList();
                if (n.Depth > 1 && !n.HasState(AtspiNames.Enabled) && !n.HasState(AtspiNames.Sensitive)) states.Add("disabled");
                if (n.Depth > 1 && !n.IsShowing) states.Add("hidden");
                if (states.Count > 0) sb.Append(" {").Append(string.Join(",", states)).Append('}');
                if ((ScaledBounds(Bounds(n), scale) ?? Bounds(n)) is { } b)
                    sb.Append(" @").Append(b[0]).Append(',').Append(b[1]).Append(' ').Append(b[2]).Append('x').Append(b[3]);
                if (n.Actions is { Length: > 0 } acts) sb.Append(" actions=").Append(string.Join(",", acts.Select(a => a.Name)));
                if (n.Truncated is not null) sb.Append(" (truncated: ").Append(n.Truncated).Append(')');
                sb.Append('\n');
            }
        return sb;
    }

    private static void Quoted(StringBuilder sb, string s)
    {
        sb.Append('"');
        foreach (var c in s)
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\uFFFC' or '\uFFFD': break;
                default: if (!char.IsControl(c)) sb.Append(c); break;
            }
        sb.Append('"');
    }

    /// <summary>
    /// A large text answer written to the response from the builder's chunks, UTF-8 encoded straight into the
    /// response's buffers; with <paramref name="JsonProperty"/>, as the one string property of a JSON object
    /// (escaped as System.Text.Json does by default). Keeps big answers off the large-object heap.
    /// </summary>
    private sealed record ChunkedResult(StringBuilder Text, string ContentType, string? JsonProperty = null) : IResult
    {
        public async Task ExecuteAsync(HttpContext http)
        {
            http.Response.ContentType = ContentType;
            var body = http.Response.BodyWriter;
            if (JsonProperty is not null)
            {
                using var json = new Utf8JsonWriter(body);
                json.WriteStartObject();
                json.WritePropertyName(JsonProperty);
                foreach (var chunk in Text.GetChunks()) json.WriteStringValueSegment(chunk.Span, isFinalSegment: false);
                json.WriteStringValueSegment(ReadOnlySpan<char>.Empty, isFinalSegment: true);
                json.WriteEndObject();
                json.Flush();
            }
            else
            {
                var encoder = Encoding.UTF8.GetEncoder();
                foreach (var chunk in Text.GetChunks()) encoder.Convert(chunk.Span, body, flush: false, out _, out _);
                encoder.Convert(ReadOnlySpan<char>.Empty, body, flush: true, out _, out _);
            }
            await body.FlushAsync(http.RequestAborted);
        }
    }
}
