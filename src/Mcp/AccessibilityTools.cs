using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http;
using Sandbox.Accessibility;
using Sandbox.Api;
using Sandbox.Common;

namespace Sandbox.Mcp;

/// <summary>
/// <c>accessibility_tree</c> and <c>find_elements</c> over <see cref="AccessibilityService"/>: the parameters
/// (and their schema) are those of <c>GET /accessibility/tree</c> and <c>/accessibility/find</c>; the tree comes
/// back in the compact text format meant for models (one line per element, docs/accessibility.md). Without an
/// accessibility bus the service's error becomes a tool error.
/// </summary>
internal sealed class AccessibilityTools(AccessibilityService accessibility) : IMcpToolProvider
{
    private static readonly string[] TreeOmit = ["format"];

    private static ApiParameter[] Parameters(string path) => OpenApiRoutes.All.First(r => r.Method == "GET" && r.Path == path).Parameters;
    private static HashSet<string> Known(string path, string[] omit) =>
        Parameters(path).Select(p => p.Name).Where(n => Array.IndexOf(omit, n) < 0).ToHashSet(StringComparer.Ordinal);

    public IEnumerable<McpTool> Tools =>
    [
        new McpTool("accessibility_tree", "Accessibility tree",
            "The desktop's accessibility (AT-SPI) tree, one line per element indented by depth: [id] role \"name\" text=... {states} @x,y wxh actions=... " +
            "Bounds are screen pixels (or screenshot pixels with scale). Narrow it with app, window=active, visible_only, max_depth, max_nodes.",
            () => McpContracts.FromParameters(Parameters("/accessibility/tree"), TreeOmit),
            McpToolAnnotations.Reads with { Idempotent = false },
            TreeAsync),
        new McpTool("find_elements", "Find elements",
            "Finds accessibility elements by role, name, text and states (exact, substring or regex): one line per match, " +
            "[id] role \"name\" {states} @x,y wxh (the centre of the bounds is where to click).",
            () => McpContracts.FromParameters(Parameters("/accessibility/find"), []),
            McpToolAnnotations.Reads with { Idempotent = false },
            FindAsync),
    ];

    private async ValueTask<McpToolResult> TreeAsync(McpToolCall call, CancellationToken ct)
    {
        var q = McpContracts.AsQuery(call.Arguments, Known("/accessibility/tree", TreeOmit));
        var o = accessibility.Options;
        var query = Tree(q, o) with
        {
            MaxDepth = Int(q, "max_depth", 1, o.MaxDepth), MaxNodes = Int(q, "max_nodes", 1, o.MaxNodes), Details = AccessibilityApi.TextDetails,
        };
        var tree = await accessibility.GetTreeAsync(query, ct).ConfigureAwait(false);
        var text = AccessibilityApi.TextFormat(tree, Scale(q));
        return McpToolResult.Text(text.Length == 0 ? "(no accessible applications)" : text);
    }

    private async ValueTask<McpToolResult> FindAsync(McpToolCall call, CancellationToken ct)
    {
        var q = McpContracts.AsQuery(call.Arguments, Known("/accessibility/find", []));
        var scale = Scale(q);
        var find = AccessibilityApi.ParseFind(q, accessibility.Options);
        var (matches, tree) = await accessibility.FindAsync(find, ct).ConfigureAwait(false);
        var sb = new StringBuilder();
        sb.Append(matches.Count).Append(matches.Count == 1 ? " match" : " matches");
        if (tree.Truncated is not null) sb.Append(" (truncated: ").Append(tree.Truncated).Append(')');
        sb.Append('\n');
        foreach (var n in matches)
        {
            sb.Append('[').Append(n.Id.ToString(CultureInfo.InvariantCulture)).Append("] ").Append(n.RoleName);
            if (n.Name.Length > 0) sb.Append(" \"").Append(n.Name.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n")).Append('"');
            var shown = n.StateNames().Where(x => x is "focused" or "selected" or "checked" or "pressed" or "expanded" or "editable").ToList();
            if (shown.Count > 0) sb.Append(" {").Append(string.Join(",", shown)).Append('}');
            if (n.Extents is { } e && e.W > 0 && e.H > 0)
            {
                var f = scale ?? 1;
                sb.Append(" @").Append((int)Math.Round(e.X * f)).Append(',').Append((int)Math.Round(e.Y * f)).Append(' ')
                  .Append((int)Math.Round(e.W * f)).Append('x').Append((int)Math.Round(e.H * f));
            }
            sb.Append('\n');
        }
        return McpToolResult.Text(sb.ToString());
    }

    private static TreeQuery Tree(IQueryCollection q, AccessibilityOptions options) => AccessibilityApi.Tree(q, options);
    private static int? Int(IQueryCollection q, string key, int min, int max) => AccessibilityApi.Int(q, key, min, max);
    private static double? Scale(IQueryCollection q) => AccessibilityApi.Scale(q);
}
