using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Sandbox.Api;
using Sandbox.Input;
using Sandbox.Capture;
using Sandbox.Common;

namespace Sandbox.Mcp;

/// <summary>
/// The <c>screenshot</c> tool and the <c>screen://current</c> resource, over <see cref="ScreenshotService"/>:
/// the same parameters and validation as <c>GET /screenshot</c> (the schema comes from its parameter table,
/// the arguments go through its parser), answered as MCP image content plus a text part with the scale.
/// </summary>
internal sealed class ScreenTools(ScreenshotService screenshots, int maxImageEdge) : IMcpToolProvider, IMcpResourceProvider
{
    public const string ScreenUri = "screen://current";
    private static readonly string[] Omitted = ["method", "response"];
    // MCP clients show the image to a model: no old-suite red box unless asked.
    private static readonly Dictionary<string, string> Defaults = new(StringComparer.Ordinal) { ["annotate"] = "false" };
    // Built on first use: OpenApiRoutes' static table is not touched on the start-up path.
    private static HashSet<string>? s_known;
    private static HashSet<string> Known => s_known ??=
        OpenApiRoutes.ScreenshotParameters.Select(p => p.Name).Where(n => Array.IndexOf(Omitted, n) < 0).ToHashSet(StringComparer.Ordinal);

    public IEnumerable<McpTool> Tools =>
    [
        new McpTool("screenshot", "Screenshot",
            "Captures the screen (or a region) with the real cursor drawn in, as a PNG or JPEG image, optionally downscaled " +
            "to max_width/max_height. The text part gives the screen size and the scale: screen coordinate = image coordinate / scale.",
            () => McpContracts.FromParameters(OpenApiRoutes.ScreenshotParameters, Omitted, Defaults,
                new Dictionary<string, JsonNode>
                {
                    ["region"] = new JsonObject
                    {
                        ["description"] = "Crop `x,y,width,height` (integers, inside the screen), as a string or a list of four integers.",
                        ["anyOf"] = new JsonArray(new JsonObject { ["type"] = "string" },
                            new JsonObject { ["type"] = "array", ["items"] = new JsonObject { ["type"] = "integer" }, ["minItems"] = 4, ["maxItems"] = 4 }),
                    },
                }),
            McpToolAnnotations.Reads with { Idempotent = false },
            (call, ct) =>
            {
                var request = ScreenshotRequest.Parse(McpContracts.AsQuery(call.Arguments, Known, Defaults), maxImageEdge);
                return ValueTask.FromResult(Shoot(request));
            }),
    ];

    private McpToolResult Shoot(ScreenshotRequest request)
    {
        // The service's own encode, held until the result is serialized (no copy; as REST's image answers).
        var lease = screenshots.RenderLease(request);
        var mime = request.Format == ImageFormat.Png ? "image/png" : "image/jpeg";
        return new McpToolResult().Own(lease)
            .Add(new McpImage(lease.Bytes.ContentMemory, mime))
            .Add(new McpText(Describe(lease.Info)));
    }

    /// <summary>The text part: sizes, scale and pointer, in words and as the REST answer's fields.</summary>
    public static string Describe(ScreenshotInfo i)
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture,
            $"screen {i.ScreenSize[0]}x{i.ScreenSize[1]}, image {i.ImageSize[0]}x{i.ImageSize[1]} {i.Format}, ");
        sb.Append(CultureInfo.InvariantCulture, $"scale {i.Scale[0]:0.######} x {i.Scale[1]:0.######} (screen = image / scale");
        if (i.Region is { } r) sb.Append(CultureInfo.InvariantCulture, $" + region origin {r[0]},{r[1]}");
        sb.Append(CultureInfo.InvariantCulture, $"), pointer at {i.MousePosition[0]},{i.MousePosition[1]}\n");
        sb.Append(CultureInfo.InvariantCulture,
            $"{{\"screen_size\":[{i.ScreenSize[0]},{i.ScreenSize[1]}],\"image_size\":[{i.ImageSize[0]},{i.ImageSize[1]}],\"scale\":[{i.Scale[0]:R},{i.Scale[1]:R}],\"mouse_position\":[{i.MousePosition[0]},{i.MousePosition[1]}]");
        if (i.Region is { } g) sb.Append(CultureInfo.InvariantCulture, $",\"region\":[{g[0]},{g[1]},{g[2]},{g[3]}]");
        sb.Append(CultureInfo.InvariantCulture, $",\"format\":\"{i.Format}\",\"bytes\":{i.Bytes}}}");
        return sb.ToString();
    }

    // ---- screen://current ----

    public IEnumerable<McpResource> List() =>
        [new McpResource(ScreenUri, "screen", "Current screen", "The whole screen now, as a PNG with the cursor drawn in.", "image/png", null)];

    public IEnumerable<McpResourceTemplate> Templates => [];

    public bool Owns(string uri) => uri == ScreenUri;

    public ValueTask<McpResourceContents> ReadAsync(string uri, CancellationToken ct)
    {
        if (uri != ScreenUri) throw SandboxException.NotFound($"resource not found: {uri}");
        var buffer = new MemoryStream(1 << 19);
        screenshots.Render(new ScreenshotRequest { Annotate = false }, buffer);
        return ValueTask.FromResult(new McpResourceContents(uri, "image/png", null, buffer.GetBuffer().AsMemory(0, (int)buffer.Length)));
    }
}
