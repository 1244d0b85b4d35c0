using System.Text.Json.Nodes;
using Sandbox.Clipboard;
using Sandbox.Desktop;
using Sandbox.Web;

namespace Sandbox.Api;

/// <summary>/clipboard, /windows, /apps and /wait routes (docs/clipboard.md, docs/desktop.md).</summary>
internal static partial class OpenApiRoutes
{
    // A method, not static fields: All (in OpenApiRoutes.cs) calls it during its own initialization.
    private static ApiRoute[] DesktopRoutes()
    {
        ApiParameter windowId = new("id", "string", "Window id, decimal (xdotool) or 0x hex (xprop, wmctrl).") { In = "path", Required = true };
        ApiParameter selection = new("selection", "string", "Which selection.") { Enum = ["clipboard", "primary"], Default = "clipboard" };
        ApiResponse noWindow = new(404, "No such window, or an unknown window action.") { Json = WebJson.Default.ApiError };
        ApiResponse timeout = new(408, "The condition did not hold in time; the message names it.") { Json = WebJson.Default.ApiError };
        ApiResponse noDisplay = new(503, "No X display.") { Json = WebJson.Default.ApiError };
        return
        [
            new("GET", "/clipboard", "desktop", "Read the clipboard",
                "Converts the selection from its owner (INCR followed, with a timeout): UTF-8 text, or PNG bytes with type=image.")
            {
                Parameters = [selection, new("type", "string", "What to read.") { Enum = ["text", "image"], Default = "text" }],
                Responses = [new(200, "The content, as text/plain; charset=utf-8 or image/png.") { ContentType = "text/plain" }, BadRequest, noDisplay],
            },
            new("PUT", "/clipboard", "desktop", "Set the clipboard",
                "The appliance owns the selection through a hidden window of its own until another client takes it; text/plain (UTF-8), " +
                "image/png, or JSON {\"text\"} bodies.")
            {
                Parameters = [selection],
                Body = new ApiBody("The content.", BodySchema(ClipboardJson.Default.ClipboardSetRequest), new JsonObject { ["text"] = "Grüße, 世界" }),
                Responses = [new(200, "What is now offered.") { Json = ClipboardJson.Default.ClipboardSetAnswer }, BadRequest, noDisplay],
            },
            new("GET", "/windows", "desktop", "List the windows",
                "Top-level windows from EWMH (stacking order, active window, title, class, pid, state, geometry with frame); ICCCM without a window manager.")
            {
                Responses = [new(200, "The windows.") { Json = DesktopJson.Default.WindowListAnswer }, noDisplay],
            },
            new("GET", "/windows/active", "desktop", "The active window", "_NET_ACTIVE_WINDOW.")
            {
                Responses = [new(200, "The window.") { Json = DesktopJson.Default.WindowInfo }, noWindow, noDisplay],
            },
            new("GET", "/windows/{id}", "desktop", "One window", "The window now.")
            {
                Parameters = [windowId], Responses = [new(200, "The window.") { Json = DesktopJson.Default.WindowInfo }, BadRequest, noWindow, noDisplay],
            },
            new("POST", "/windows/{id}/{action}", "desktop", "Act on a window",
                "activate, close, minimize, maximize, restore, fullscreen, move ({\"x\",\"y\"}) or resize ({\"width\",\"height\"}), as EWMH client messages.")
            {
                Parameters = [windowId, new("action", "string", "What to do.") { In = "path", Required = true,
                    Enum = ["activate", "close", "minimize", "maximize", "restore", "fullscreen", "move", "resize"] }],
                Body = new ApiBody("For move and resize only.", BodySchema(DesktopJson.Default.WindowMove), new JsonObject { ["x"] = 100, ["y"] = 50 }),
                Responses = [new(200, "Done.") { Json = DesktopJson.Default.WindowActionAnswer }, BadRequest, noWindow, noDisplay],
            },
            new("POST", "/apps/launch", "desktop", "Launch an application",
                "command, argv, desktop_entry or open (a path or URL, with the desktop's handler); with wait, answers once a matching window appeared.")
            {
                Body = new ApiBody("What to start and what to wait for.", BodySchema(DesktopJson.Default.LaunchRequest),
                    new JsonObject { ["argv"] = new JsonArray("xterm"), ["wait"] = new JsonObject { ["window"] = new JsonObject { ["class"] = "xterm" }, ["timeout_s"] = 10 } }),
                Responses = [new(200, "The process and its window.") { Json = DesktopJson.Default.LaunchAnswer }, BadRequest, timeout, noDisplay],
            },
            new("POST", "/wait", "desktop", "Wait for a condition",
                "screen_settled (no damage for quiet_ms), pixel_changed in a region, window_exists, window_gone, process_exit; the answer says which held and when.")
            {
                Body = new ApiBody("The condition.", BodySchema(DesktopJson.Default.WaitRequest),
                    new JsonObject { ["until"] = "screen_settled", ["quiet_ms"] = 300, ["timeout_ms"] = 5000 }),
                Responses = [new(200, "The condition held.") { Json = DesktopJson.Default.WaitAnswer }, BadRequest, timeout, noDisplay],
            },
        ];
    }
}
