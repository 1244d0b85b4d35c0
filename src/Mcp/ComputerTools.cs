using System.Text.Json;
using System.Text.Json.Nodes;
using Sandbox.Api;
using Sandbox.Capture;
using Sandbox.Common;
using Sandbox.Input;

namespace Sandbox.Mcp;

/// <summary>
/// The <c>computer</c> tool over <see cref="ComputerService"/>'s public entry points: one action (the
/// arguments are the action object of <c>POST /computer/action</c>) or a batch (<c>{"actions": [...]}</c> as
/// <c>POST /computer/actions</c>), parsed by the same parser, with the same schema as /openapi.json. Screenshots
/// an action or <c>screenshot_after</c> takes come back as image content; the text part is the REST answer.
/// While a recording runs, each call that ran is a step of its trajectory (source <c>mcp</c>), as for /computer/action.
/// </summary>
internal sealed class ComputerTools(ComputerService computer, IStepJournal? steps = null) : IMcpToolProvider
{
    public IEnumerable<McpTool> Tools =>
    [
        new McpTool("computer", "Computer",
            "Mouse and keyboard on the VM's screen, in Anthropic's computer-use vocabulary (or OSWorld's computer_13): one action " +
            "({\"action\": \"left_click\", \"coordinate\": [x, y]}) or a batch ({\"actions\": [...]}), run in order and stopped at the first failure. " +
            "screenshot_after: true returns a screenshot taken after the actions as image content. Coordinates are screen pixels unless " +
            "max_width/max_height (or scale) say they refer to a downscaled screenshot.",
            Schema,
            new McpToolAnnotations(ReadOnly: false, Destructive: true, Idempotent: false, OpenWorld: false),
            RunAsync),
    ];

    /// <summary>The REST contract's action schema, plus <c>actions</c> for a batch, plus the request-level fields.</summary>
    private static JsonNode Schema()
    {
        var schema = OpenApiRoutes.RequestFields(OpenApiRoutes.ActionSchema());
        schema["description"] = "One action (\"action\" or \"action_type\" with its fields), or \"actions\": a list of them.";
        ((JsonObject)schema["properties"]!)["actions"] = new JsonObject
        {
            ["type"] = "array",
            ["description"] = "A batch: these actions in order (then \"action\" must be absent).",
            ["items"] = OpenApiRoutes.ActionSchema(),
        };
        return schema;
    }

    private async ValueTask<McpToolResult> RunAsync(McpToolCall call, CancellationToken ct)
    {
        var args = InlineScreenshots(call.Arguments);
        ActionBatch batch;
        try
        {
            batch = args.ValueKind == JsonValueKind.Object && args.TryGetProperty("actions", out _)
                ? computer.Parser.ParseBatch(args)
                : computer.Parser.ParseSingle(args);
        }
        catch (ActionInputException e)
        {
            throw new McpToolException("invalid arguments: " + e.Message);
        }

        var outcome = await computer.RunAsync(batch, ct, origin: "mcp").ConfigureAwait(false);
        var result = new McpToolResult { IsError = outcome.Failure is not null };
        foreach (var r in outcome.Results)
            if (r.Screenshot?.Base64 is { } b) result.Add(new McpImageBase64(b, Mime(r.Screenshot.Info)));
        if (outcome.ScreenshotAfter?.Base64 is { } after) result.Add(new McpImageBase64(after, Mime(outcome.ScreenshotAfter.Info)));

        var answer = ComputerApi.Answer(outcome, withImages: false);
        var text = JsonSerializer.Serialize(answer, McpContractJson.Default.ComputerActionsAnswer);
        if (steps is { Active: true }) await steps.AddAsync("mcp", args.ValueKind == JsonValueKind.Undefined ? "null" : call.Arguments.GetRawText(), text, ct).ConfigureAwait(false);
        result.Content.Insert(0, new McpText(outcome.Failure is { } f ? $"action {f.Index} failed: {f.Message}\n{text}" : text));
        return result;
    }

    /// <summary>
    /// Screenshots are returned inline (base64, no file) and without the old suite's red box unless the
    /// caller says otherwise: an MCP client shows them to a model. Leaves the arguments untouched (and
    /// unparsed) when no screenshot is asked for, the common case.
    /// </summary>
    private static JsonElement InlineScreenshots(JsonElement args)
    {
        if (args.ValueKind != JsonValueKind.Object) return args;
        var raw = args.GetRawText();
        if (!raw.Contains("screenshot", StringComparison.Ordinal) && !raw.Contains("zoom", StringComparison.Ordinal)) return args;
        if (JsonNode.Parse(raw) is not JsonObject root) return args;

        static JsonObject Inline(JsonObject o)
        {
            o.TryAdd("response", "base64");
            o.TryAdd("annotate", false);
            return o;
        }
        static void Action(JsonNode? node)
        {
            if (node is JsonObject a && a["action"] is JsonValue v && v.TryGetValue<string>(out var name) && name is "screenshot" or "zoom")
                Inline(a);
        }

        if (root["screenshot_after"] is JsonValue t && t.TryGetValue<bool>(out var yes) && yes) root["screenshot_after"] = Inline(new JsonObject());
        else if (root["screenshot_after"] is JsonObject sa) Inline(sa);
        Action(root);
        if (root["actions"] is JsonArray list)
            foreach (var item in list) Action(item);
        using var doc = JsonDocument.Parse(root.ToJsonString());
        return doc.RootElement.Clone();
    }

    private static string Mime(ScreenshotInfo info) => info.Format == "png" ? "image/png" : "image/jpeg";


}
