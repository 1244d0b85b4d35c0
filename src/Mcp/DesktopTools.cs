using System.Text.Json;
using System.Text.Json.Serialization;
using Sandbox.Clipboard;
using Sandbox.Desktop;

namespace Sandbox.Mcp;

/// <summary>Arguments of the desktop tools that have no REST body of their own (the REST side reads the query or the path).</summary>
internal sealed record ClipboardGetArgs(string? Selection);

internal sealed record WindowArgs(string Id);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ClipboardGetArgs))]
[JsonSerializable(typeof(WindowArgs))]
internal sealed partial class DesktopToolJson : JsonSerializerContext;

/// <summary>
/// clipboard_get, clipboard_set, list_windows, activate_window, launch_app and wait: thin calls into the
/// clipboard and desktop areas, with the REST bodies' contract types as arguments (PUT /clipboard's JSON body,
/// POST /apps/launch, POST /wait) and the REST answers as results.
/// </summary>
internal sealed class DesktopTools(ClipboardService clipboard, DesktopService desktop, AppLauncher apps, WaitService waits) : IMcpToolProvider
{
    private static readonly McpToolAnnotations ReadOnly = new(ReadOnly: true, Destructive: false, Idempotent: true, OpenWorld: false);

    public IEnumerable<McpTool> Tools =>
    [
        McpTool.Create("clipboard_get", "Read the clipboard",
            "The clipboard's (or, with selection=primary, the primary selection's) text. Empty when nobody owns it.",
            DesktopToolJson.Default.ClipboardGetArgs, ReadOnly,
            async (a, _, _) =>
            {
                var content = await clipboard.GetAsync(ClipboardContent.ParseSelection(a.Selection), ClipboardKind.Text).ConfigureAwait(false);
                return McpToolResult.Text(content.IsEmpty ? "" : content.Text);
            }),
        McpTool.Create("clipboard_set", "Set the clipboard",
            "Puts text on the clipboard (or the primary selection); the VM's applications paste it with ctrl+v.",
            ClipboardJson.Default.ClipboardSetRequest,
            new McpToolAnnotations(ReadOnly: false, Destructive: true, Idempotent: true, OpenWorld: false),
            async (a, _, _) =>
            {
                if (a.Text is null) throw new McpToolException("text: required");
                await clipboard.SetTextAsync(a.Text, ClipboardContent.ParseSelection(a.Selection)).ConfigureAwait(false);
                return McpToolResult.Text($"clipboard set ({System.Text.Encoding.UTF8.GetByteCount(a.Text)} bytes)");
            }),
        McpTool.Create("list_windows", "List the windows",
            "The top-level application windows: id, title, class, pid, state and geometry in screen coordinates, and which is active.",
            McpJson.Default.McpEmpty, ReadOnly,
            (_, _, _) => ValueTask.FromResult(McpToolResult.Text(JsonSerializer.Serialize(desktop.List(), DesktopJson.Default.WindowListAnswer)))),
        McpTool.Create("activate_window", "Activate a window",
            "Raises and focuses the window with this id (from list_windows; decimal or 0x hex).",
            DesktopToolJson.Default.WindowArgs,
            new McpToolAnnotations(ReadOnly: false, Destructive: false, Idempotent: true, OpenWorld: false),
            (a, _, _) => ValueTask.FromResult(McpToolResult.Text(JsonSerializer.Serialize(
                desktop.Act(DesktopApi.ParseId(a.Id), WindowAction.Activate, null), DesktopJson.Default.WindowActionAnswer)))),
        McpTool.Create("launch_app", "Launch an application",
            "Starts a command, argv, desktop entry or file/URL (open) and, with wait, answers once its window appeared.",
            DesktopJson.Default.LaunchRequest,
            new McpToolAnnotations(ReadOnly: false, Destructive: false, Idempotent: false, OpenWorld: true),
            async (a, _, ct) => McpToolResult.Text(JsonSerializer.Serialize(await apps.LaunchAsync(a, ct).ConfigureAwait(false), DesktopJson.Default.LaunchAnswer))),
        McpTool.Create("wait", "Wait for a condition",
            "Waits until the screen settles (screen_settled), a region changes (pixel_changed), a window appears or goes " +
            "(window_exists, window_gone) or a process exits (process_exit), instead of sleeping a fixed time.",
            DesktopJson.Default.WaitRequest, ReadOnly,
            async (a, _, ct) => McpToolResult.Text(JsonSerializer.Serialize(await waits.WaitAsync(a, ct).ConfigureAwait(false), DesktopJson.Default.WaitAnswer))),
    ];
}
