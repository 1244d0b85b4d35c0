using Sandbox.Hosting;

namespace Sandbox.Api;

/// <summary>
/// Every REST endpoint of port 8765, as /openapi.json documents it. An endpoint mapped without an entry
/// here fails the OpenAPI coverage test; keep entries next to their area's group below.
/// </summary>
internal static class OpenApiRoutes
{
    private static readonly ApiResponse BadRequest = new(400, "A parameter or the body is invalid; the message names it.") { Json = AppJson.Default.ApiError };
    private static readonly ApiResponse NoDisplay = new(503, "No X display is configured, it was lost (it is reopened on the next request), or it stayed busy.") { Json = AppJson.Default.ApiError };
    private static readonly ApiResponse Internal = new(500, "An unexpected error; the message says what failed.") { Json = AppJson.Default.ApiError };

    private static readonly ApiParameter[] ScreenshotParameters =
    [
        new("method", "string", "Accepted for the old suite's clients; both values take the same capture.") { Enum = ["pyautogui", "pillow"] },
        new("format", "string", "Image format.") { Enum = ["png", "jpeg"], Default = "png" },
        new("quality", "integer", "JPEG quality.") { Minimum = 1, Maximum = 100, Default = "80" },
        new("cursor", "boolean", "Composite the cursor image at the pointer.") { Default = "true" },
        new("annotate", "boolean", "Draw the red box around the pointer and the `mouse: x= y=` label.") { Default = "true" },
        new("region", "string", "Crop `x,y,width,height` (integers, inside the screen)."),
        new("max_width", "integer", "Aspect-preserving downscale to at most this width; `scale` in the answer maps back.") { Minimum = 1 },
        new("max_height", "integer", "Aspect-preserving downscale to at most this height.") { Minimum = 1 },
        new("response", "string", "`json`: file under SHARED_DIR; `image`: the bytes (headers X-Mouse-Position, X-Screen-Size, X-Scale); `base64`: JSON with `image`.")
            { Enum = ["json", "image", "base64"], Default = "json" },
    ];

    public static readonly ApiRoute[] All =
    [
        // Health and screen
        new("GET", "/health", "health", "Appliance and display health",
            "Always 200 while the process serves; `status` is `ok` when the display is connected, `degraded` otherwise.")
        {
            Responses = [new(200, "The health report.") { Json = AppJson.Default.HealthReport }],
        },
        new("GET", "/screenshot", "screen", "Screenshot with the real cursor",
            "Captures the whole screen (or a region), composites the cursor and by default the old suite's pointer annotation. " +
            "By default the PNG is written under SHARED_DIR/screenshots and its relative path is returned.")
        {
            Parameters = ScreenshotParameters,
            Responses =
            [
                new(200, "`response=json`/`base64`: the screenshot's description (and, for base64, the image). " +
                         "`response=image`: the PNG or JPEG bytes.") { Json = AppJson.Default.ScreenshotAnswer },
                BadRequest, NoDisplay,
                new(507, "SHARED_DIR is full.") { Json = AppJson.Default.ApiError },
                Internal,
            ],
        },
        new("GET", "/cursor_position", "screen", "Pointer position", "Where the pointer is, in screen pixels.")
        {
            Responses = [new(200, "The pointer.") { Json = AppJson.Default.CursorPosition }, NoDisplay],
        },
        new("GET", "/screen_size", "screen", "Screen size", "The root window's size in pixels.")
        {
            Responses = [new(200, "The size.") { Json = AppJson.Default.ScreenSize }, NoDisplay],
        },

        // Live view
        new("GET", "/", "live view", "Live view page",
            "The live view page (same as /view): the screen as it changes, the pointer, recording start/stop, a screenshot button, " +
            "recent actions, and click-and-type control when SANDBOX_VIEW_CONTROL=true.")
        {
            Responses = [new(200, "The HTML page.") { ContentType = "text/html" }],
        },
        new("GET", "/view", "live view", "Live view page", "The live view page (same as /).")
        {
            Responses = [new(200, "The HTML page.") { ContentType = "text/html" }],
        },
        new("GET", "/view/assets/{name}", "live view", "Live view page assets", "Script and style of the page, compiled into the binary.")
        {
            Parameters = [new("name", "string", "Asset file name.") { In = "path", Enum = ["app.js", "app.css"] }],
            Responses =
            [
                new(200, "The asset (text/javascript or text/css).") { ContentType = "text/plain" },
                new(404, "No such asset.") { Json = AppJson.Default.ApiError },
            ],
        },
        new("GET", "/view/stream", "live view", "Live view stream (WebSocket)",
            "WebSocket upgrade. The server sends a `hello` text message, then for each changed screen a `frame` text message " +
            "(`seq`, `width`, `height`, `screen`, `pointer`, `captured_ms`, `bytes`, `skipped`) followed by one binary message " +
            "with the JPEG, plus `activity`, `display` and `control_result` messages. Frames are sent only when the screen changed, " +
            "at most SANDBOX_VIEW_FPS per second; a slow viewer skips frames. The client may send " +
            "`{\"type\": \"action\", \"id\": n, \"action\": {...}}` (input actions of POST /computer/action; refused with 403 " +
            "unless SANDBOX_VIEW_CONTROL=true) and `{\"type\": \"ping\"}`.")
        {
            WebSocket = true,
            Responses =
            [
                new(101, "Switching to the WebSocket protocol."),
                new(400, "Not a WebSocket request.") { Json = AppJson.Default.ApiError },
                new(503, "SANDBOX_VIEW_MAX_VIEWERS viewers are already watching.") { Json = AppJson.Default.ApiError },
            ],
        },
        new("GET", "/view/mjpeg", "live view", "Live view stream (MJPEG)",
            "The same frames as multipart/x-mixed-replace JPEG parts, for a plain <img src=\"/view/mjpeg\">.")
        {
            Responses =
            [
                new(200, "An endless multipart stream of JPEG frames.") { ContentType = "multipart/x-mixed-replace", Format = "binary" },
                new(503, "SANDBOX_VIEW_MAX_VIEWERS viewers are already watching.") { Json = AppJson.Default.ApiError },
            ],
        },
        new("GET", "/view/status", "live view", "Live view state",
            "Settings, whether control is allowed (and why not), the encoder, counters of screen checks and encoded frames, and each viewer's sent and skipped frames.")
        {
            Responses = [new(200, "The state.") { Json = AppJson.Default.LiveViewStatus }],
        },
        new("GET", "/view/activity", "live view", "Recent actions",
            "The most recent actions (action API, live view control) and recorded input events, oldest first.")
        {
            Parameters = [new("limit", "integer", "Most entries returned.") { Minimum = 1, Maximum = ActivityFeed.Capacity, Default = "50" }],
            Responses = [new(200, "The entries.") { Json = AppJson.Default.ActivityEntryArray }, BadRequest],
        },

        // This document
        new("GET", OpenApiDocument.Path, "meta", "This OpenAPI document", "OpenAPI 3.1 description of every REST endpoint of this port.")
        {
            Responses = [new(200, "The document.") { ContentType = "application/json" }],
        },
    ];
}
