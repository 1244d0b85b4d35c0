using System.Text.Json.Nodes;
using Sandbox.Capture;
using Sandbox.Recording;
using Sandbox.Input;
using Sandbox.LiveView;
using Sandbox.Common;
using Sandbox.Web;

namespace Sandbox.Api;

/// <summary>
/// Every REST endpoint of port 8765, as /openapi.json documents it. An endpoint mapped without an entry
/// here fails the OpenAPI coverage test; keep entries next to their area's group below.
/// </summary>
internal static partial class OpenApiRoutes
{
    private static readonly ApiResponse BadRequest = new(400, "A parameter or the body is invalid; the message names it.") { Json = WebJson.Default.ApiError };
    private static readonly ApiResponse NoDisplay = new(503, "No X display is configured, it was lost (it is reopened on the next request), or it stayed busy.") { Json = WebJson.Default.ApiError };
    private static readonly ApiResponse NoA11yBus = new(503, "No accessibility bus (no session bus, org.a11y.Bus or AT_SPI_BUS_ADDRESS).") { Json = WebJson.Default.ApiError };
    private static readonly ApiResponse A11yGone = new(404, "No such element, or it no longer exists.") { Json = WebJson.Default.ApiError };
    private static readonly ApiParameter A11yTimeout = new("timeout_ms", "integer", "Each application's time budget; a slower one is cut and marked truncated.") { Minimum = 1 };
    private static readonly ApiParameter A11yScale = new("scale", "number", "Screenshot pixels per screen pixel: adds scaled_bounds.");
    private static readonly ApiParameter A11yId = new("id", "integer", "Element id from a tree or find answer.") { In = "path", Required = true };
    private static readonly ApiResponse Internal = new(500, "An unexpected error; the message says what failed.") { Json = WebJson.Default.ApiError };

    /// <summary>The /screenshot query parameters; the MCP screenshot tool's input schema is built from this table too.</summary>
    internal static readonly ApiParameter[] ScreenshotParameters =
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

    private static JsonArray Strings(IEnumerable<string> values) => new(values.Select(v => (JsonNode?)JsonValue.Create(v)).ToArray());

    private static JsonObject Point(string description) => new()
    {
        ["type"] = "array", ["items"] = new JsonObject { ["type"] = "number" }, ["minItems"] = 2, ["maxItems"] = 2,
        ["description"] = description,
    };

    /// <summary>One action: Anthropic's computer-use vocabulary or OSWorld's computer_13 (README "Computer actions").</summary>
    internal static JsonObject ActionSchema() => new()
    {
        ["type"] = "object",
        ["description"] = "One action. Anthropic's vocabulary uses \"action\"; OSWorld's computer_13 uses \"action_type\" with its fields in \"parameters\" or beside it.",
        ["properties"] = new JsonObject
        {
            ["action"] = new JsonObject { ["type"] = "string", ["enum"] = Strings(ActionParser.AnthropicActions) },
            ["action_type"] = new JsonObject { ["type"] = "string", ["enum"] = Strings(ActionParser.OsWorldActions) },
            ["coordinate"] = Point("[x, y] in the request's coordinate space."),
            ["start_coordinate"] = Point("left_click_drag: where the drag starts (default: the pointer)."),
            ["element"] = new JsonObject
            {
                ["type"] = "integer", ["minimum"] = 1,
                ["description"] = "Instead of coordinate (not with it), for mouse_move, the clicks, left_click_drag (its end), left_mouse_down/up and scroll: " +
                    "an element id from /accessibility; the action acts on the centre of the element's current bounds. " +
                    "404 if the element is unknown or gone, 503 without an accessibility bus, 400 if it has no bounds on the screen.",
            },
            ["text"] = new JsonObject { ["type"] = "string", ["description"] = "type/paste_text: the text; key/hold_key: xdotool-style chords (ctrl+shift+t Return); clicks/scroll: keys held." },
            ["scroll_direction"] = new JsonObject { ["type"] = "string", ["enum"] = Strings(["up", "down", "left", "right"]) },
            ["scroll_amount"] = new JsonObject { ["type"] = "integer", ["minimum"] = 0 },
            ["duration"] = new JsonObject { ["type"] = "number", ["minimum"] = 0, ["description"] = "Seconds (wait, hold_key)." },
            ["delay_ms"] = new JsonObject { ["type"] = "integer", ["minimum"] = 0 },
            ["method"] = new JsonObject { ["type"] = "string", ["enum"] = Strings(["keys", "paste", "auto"]), ["description"] = "type: key events (default), the clipboard and ctrl+v, or keys unless the keymap cannot type the text." },
            ["restore"] = new JsonObject { ["type"] = "boolean", ["description"] = "paste_text / type by paste: put the previous clipboard content back afterwards (default true)." },
            ["region"] = new JsonObject
            {
                ["oneOf"] = new JsonArray(
                    new JsonObject { ["type"] = "array", ["items"] = new JsonObject { ["type"] = "number" }, ["minItems"] = 4, ["maxItems"] = 4 },
                    new JsonObject { ["type"] = "object" }),
                ["description"] = "zoom: [x0, y0, x1, y1]; wait until pixel_changed: {x, y, width, height} in screen pixels.",
            },
            ["until"] = new JsonObject { ["type"] = "string", ["enum"] = Strings(["screen_settled", "pixel_changed", "window_exists", "window_gone", "process_exit"]), ["description"] = "wait: a POST /wait condition instead of duration (with quiet_ms, timeout_ms, window, region, pid); unmet in time fails the action (408)." },
            ["quiet_ms"] = new JsonObject { ["type"] = "integer", ["minimum"] = 1 },
            ["timeout_ms"] = new JsonObject { ["type"] = "integer", ["minimum"] = 0 },
            ["window"] = new JsonObject { ["type"] = "object", ["description"] = "wait until window_exists/window_gone: {id, pid, class, title}." },
            ["pid"] = new JsonObject { ["type"] = "integer", ["minimum"] = 1, ["description"] = "wait until process_exit." },
            ["parameters"] = new JsonObject { ["type"] = "object", ["description"] = "OSWorld fields (x, y, button, num_clicks, dx, dy, text, key, keys, seconds)." },
        },
        ["additionalProperties"] = true,
    };

    internal static JsonObject RequestFields(JsonObject target)
    {
        var p = (JsonObject)target["properties"]!;
        p["max_width"] = new JsonObject { ["type"] = "integer", ["minimum"] = 1, ["description"] = "Coordinates are in a screenshot downscaled to this width." };
        p["max_height"] = new JsonObject { ["type"] = "integer", ["minimum"] = 1 };
        p["scale"] = new JsonObject { ["description"] = "The screenshot's scale (a number or [sx, sy]) the coordinates refer to." };
        p["screenshot_after"] = new JsonObject { ["description"] = "true, or an object of /screenshot parameters: a screenshot after the actions." };
        p["settle_ms"] = new JsonObject { ["type"] = "integer", ["minimum"] = 0 };
        return target;
    }

    private static JsonObject BatchSchema() => new()
    {
        ["oneOf"] = new JsonArray(
            RequestFields(new JsonObject
            {
                ["type"] = "object",
                ["required"] = Strings(["actions"]),
                ["properties"] = new JsonObject { ["actions"] = new JsonObject { ["type"] = "array", ["items"] = ActionSchema() } },
                ["additionalProperties"] = true,
            }),
            new JsonObject { ["type"] = "array", ["items"] = ActionSchema() }),
    };

    public static readonly ApiRoute[] All =
    [
        // Health and screen
        new("GET", "/health", "health", "Appliance and display health",
            "Always 200 while the process serves; `status` is `ok` when the display is connected, `degraded` otherwise.")
        {
            Responses = [new(200, "The health report.") { Json = ApiJson.Default.HealthReport }],
        },
        new("GET", "/screenshot", "screen", "Screenshot with the real cursor",
            "Captures the whole screen (or a region), composites the cursor and by default the old suite's pointer annotation. " +
            "By default the PNG is written under SHARED_DIR/screenshots and its relative path is returned.")
        {
            Parameters = ScreenshotParameters,
            Responses =
            [
                new(200, "`response=json`/`base64`: the screenshot's description (and, for base64, the image). " +
                         "`response=image`: the PNG or JPEG bytes.") { Json = CaptureJson.Default.ScreenshotAnswer },
                BadRequest, NoDisplay,
                new(507, "SHARED_DIR is full.") { Json = WebJson.Default.ApiError },
                Internal,
            ],
        },
        new("GET", "/cursor_position", "screen", "Pointer position", "Where the pointer is, in screen pixels.")
        {
            Responses = [new(200, "The pointer.") { Json = CaptureJson.Default.CursorPosition }, NoDisplay],
        },
        new("GET", "/screen_size", "screen", "Screen size", "The root window's size in pixels.")
        {
            Responses = [new(200, "The size.") { Json = CaptureJson.Default.ScreenSize }, NoDisplay],
        },

        // Fleet: orchestrator probes and per-claim settings (docs/fleets.md)
        new("GET", "/healthz", "fleet", "Liveness probe", "200 whenever the process answers; asks nothing else. Open without a token.")
        {
            Responses = [new(200, "Alive.") { Json = Sandbox.Fleet.FleetJson.Default.LivenessReport }],
        },
        new("GET", "/readyz", "fleet", "Readiness probe",
            "200 when the display, capture, input and the gateway with its kernel pool are up; 503 with the reasons while starting, degraded or draining (from SIGTERM). Open without a token.")
        {
            Responses = [new(200, "Ready.") { Json = Sandbox.Fleet.FleetJson.Default.ReadinessReport },
                         new(503, "Not ready; `reasons` says why.") { Json = Sandbox.Fleet.FleetJson.Default.ReadinessReport }],
        },
        new("GET", "/v1/health", "fleet", "Readiness probe (alias of /readyz)", "agent-sandbox's runtime-standard name for /readyz.")
        {
            Responses = [new(200, "Ready.") { Json = Sandbox.Fleet.FleetJson.Default.ReadinessReport },
                         new(503, "Not ready; `reasons` says why.") { Json = Sandbox.Fleet.FleetJson.Default.ReadinessReport }],
        },
        new("POST", "/init", "fleet", "Per-claim settings: token (set once), environment, clock hint",
            "Idempotent and safe to retry. The token is set once for both ports (the same again is a no-op, another is 409); " +
            "env applies to kernels and processes started from now on; timestamp is the caller's clock (skew reported, never applied). " +
            "Open until a token is set, then it needs the token.")
        {
            Body = new ApiBody("All fields optional.", new JsonObject
            {
                ["type"] = "object",
                ["properties"] = new JsonObject
                {
                    ["token"] = new JsonObject { ["type"] = "string" },
                    ["env"] = new JsonObject { ["type"] = "object", ["additionalProperties"] = new JsonObject { ["type"] = "string" } },
                    ["timestamp"] = new JsonObject { ["type"] = "string", ["format"] = "date-time" },
                },
            }),
            Responses = [new(200, "Applied.") { Json = Sandbox.Fleet.FleetJson.Default.InitResponse }, BadRequest,
                         new(409, "A different token is already set.") { Json = WebJson.Default.ApiError }],
        },

        // Recording
        new("GET", "/record", "recording", "Start, stop or query input and screen recording",
            "The old suite's contract. start: records input events (XRecord) and, unless video=false, the screen (ffmpeg); " +
            "stop: writes recordings/actions-<ts>.json and finishes the video; status: what is running. Paths are relative to SHARED_DIR.")
        {
            Parameters =
            [
                new("mode", "string", "What to do.") { Enum = ["start", "stop", "status"], Default = "status" },
                new("fps", "integer", "Screen video frame rate (start).") { Minimum = 1, Maximum = 60, Default = "10" },
                new("codec", "string", "Video codec (start): auto, h264 (avc1, x264) or mpeg4 (mp4v, xvid).") { Default = "auto" },
                new("video", "boolean", "Record the screen as well as input (start).") { Default = "true" },
            ],
            Responses =
            [
                new(200, "The recording's state; on stop the files written and counts.") { Json = RecordApiJson.Default.RecordAnswer },
                BadRequest, NoDisplay,
                new(507, "SHARED_DIR is full.") { Json = WebJson.Default.ApiError },
                Internal,
            ],
        },

        new("POST", "/record", "recording", "Start, stop or query a recording (JSON body)",
            "The same as GET /record with the fields in a JSON body. Browsers must use this to start or stop: a GET carrying " +
            "Origin or Sec-Fetch-* headers may only ask for the status.")
        {
            Body = new ApiBody("The fields of GET /record's query.", new JsonObject
            {
                ["type"] = "object",
                ["properties"] = new JsonObject
                {
                    ["mode"] = new JsonObject { ["type"] = "string", ["enum"] = new JsonArray("start", "stop", "status") },
                    ["fps"] = new JsonObject { ["type"] = "integer", ["minimum"] = 1, ["maximum"] = 60 },
                    ["codec"] = new JsonObject { ["type"] = "string" },
                    ["video"] = new JsonObject { ["type"] = "boolean" },
                },
            }, new JsonObject { ["mode"] = "start", ["fps"] = 10 }),
            Responses =
            [
                new(200, "The recording's state; on stop the files written and counts.") { Json = RecordApiJson.Default.RecordAnswer },
                BadRequest, NoDisplay,
                new(507, "SHARED_DIR is full.") { Json = WebJson.Default.ApiError },
                Internal,
            ],
        },

        // Computer actions
        new("POST", "/computer/action", "actions", "Run one computer action",
            "Native mouse and keyboard input over XTEST. Malformed input is a 400 naming the field and nothing runs; an action that fails " +
            "while running answers with its status (400 for an off-screen point) and \"status\": \"error\".")
        {
            Body = new ApiBody("One action object; it may carry the request-level fields (max_width, scale, screenshot_after, settle_ms).",
                RequestFields(ActionSchema()), new JsonObject { ["action"] = "left_click", ["coordinate"] = new JsonArray(100, 200) }),
            Responses =
            [
                new(200, "The action ran.") { Json = InputJson.Default.ComputerActionAnswer },
                new(400, "Malformed input (reason/message only), or the action failed while running (the full answer with status \"error\").") { Json = InputJson.Default.ComputerActionAnswer },
                NoDisplay, Internal,
            ],
        },
        new("POST", "/computer/actions", "actions", "Run a batch of computer actions",
            "Runs the actions in order; the first that fails stops the batch (later ones are \"skipped\"). Keys and buttons still held at the end are released.")
        {
            Body = new ApiBody("{\"actions\": [...], request-level fields} or a bare list of actions.", BatchSchema(),
                new JsonObject { ["actions"] = new JsonArray(new JsonObject { ["action"] = "left_click", ["coordinate"] = new JsonArray(100, 200) }, new JsonObject { ["action"] = "type", ["text"] = "hello" }) }),
            Responses =
            [
                new(200, "All actions ran.") { Json = InputJson.Default.ComputerActionsAnswer },
                new(400, "Malformed input (reason/message only), or an action failed while running (results so far, failed_index).") { Json = InputJson.Default.ComputerActionsAnswer },
                NoDisplay, Internal,
            ],
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
                new(404, "No such asset.") { Json = WebJson.Default.ApiError },
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
                new(400, "Not a WebSocket request.") { Json = WebJson.Default.ApiError },
                new(503, "SANDBOX_VIEW_MAX_VIEWERS viewers are already watching.") { Json = WebJson.Default.ApiError },
            ],
        },
        new("GET", "/view/mjpeg", "live view", "Live view stream (MJPEG)",
            "The same frames as multipart/x-mixed-replace JPEG parts, for a plain <img src=\"/view/mjpeg\">.")
        {
            Responses =
            [
                new(200, "An endless multipart stream of JPEG frames.") { ContentType = "multipart/x-mixed-replace", Format = "binary" },
                new(503, "SANDBOX_VIEW_MAX_VIEWERS viewers are already watching.") { Json = WebJson.Default.ApiError },
            ],
        },
        new("GET", "/view/status", "live view", "Live view state",
            "Settings, whether control is allowed (and why not), the encoder, counters of screen checks and encoded frames, and each viewer's sent and skipped frames.")
        {
            Responses = [new(200, "The state.") { Json = LiveViewJson.Default.LiveViewStatus }],
        },
        new("GET", "/view/activity", "live view", "Recent actions",
            "The most recent actions (action API, live view control) and recorded input events, oldest first.")
        {
            Parameters = [new("limit", "integer", "Most entries returned.") { Minimum = 1, Maximum = ActivityFeed.Capacity, Default = "50" }],
            Responses = [new(200, "The entries.") { Json = LiveViewJson.Default.ActivityEntryArray }, BadRequest],
        },

        // MCP (docs/mcp.md)
        new("POST", "/mcp", "mcp", "MCP Streamable HTTP: client messages",
            "One JSON-RPC message (or a batch, revision 2025-03-26) of the Model Context Protocol. initialize opens a session and " +
            "answers with the Mcp-Session-Id header, which every later request carries. A request is answered as application/json, " +
            "or for tools/call (when Accept lists text/event-stream) as an SSE stream: progress notifications, then the result. " +
            "Notifications and responses are answered 202.")
        {
            Body = new ApiBody("A JSON-RPC 2.0 message.", new JsonObject { ["type"] = "object" },
                new JsonObject { ["jsonrpc"] = "2.0", ["id"] = 1, ["method"] = "tools/list" }),
            Responses =
            [
                new(200, "The JSON-RPC response (application/json) or an SSE stream of messages (text/event-stream).") { ContentType = "application/json" },
                new(202, "Accepted (a notification or response, or a cancelled request)."),
                new(400, "Not JSON-RPC, no Mcp-Session-Id, or an unsupported MCP-Protocol-Version (a JSON-RPC error body).") { ContentType = "application/json" },
                new(404, "The session is unknown, closed or expired: initialize again.") { ContentType = "application/json" },
            ],
        },
        new("GET", "/mcp", "mcp", "MCP Streamable HTTP: server stream",
            "Opens the session's SSE stream for server-initiated messages (Accept: text/event-stream, Mcp-Session-Id).")
        {
            Responses =
            [
                new(200, "An SSE stream (keep-alive comments every SANDBOX_MCP_KEEPALIVE_S).") { ContentType = "text/event-stream" },
                new(404, "Unknown session.") { ContentType = "application/json" },
                new(406, "Accept does not list text/event-stream.") { ContentType = "application/json" },
            ],
        },
        new("DELETE", "/mcp", "mcp", "MCP Streamable HTTP: end the session",
            "Closes the session named by Mcp-Session-Id: its requests are cancelled and its Python kernel shut down.")
        {
            Responses = [new(200, "Closed."), new(404, "Unknown session.") { ContentType = "application/json" }],
        },

        .. ProcessRoutes(), // OpenApiRoutes.Processes.cs
        .. FileRoutes(), // OpenApiRoutes.Files.cs
        .. DesktopRoutes(), // OpenApiRoutes.Desktop.cs
        // --- Accessibility ---
        new("GET", "/accessibility", "accessibility", "OSWorld's accessibility tree",
            "The desktop's AT-SPI tree as OSWorld's server answers it: {\"AT\": \"<xml>\"} (docs/accessibility.md).")
        {
            Parameters = [A11yTimeout],
            Responses = [new(200, "The tree.") { Json = Sandbox.Accessibility.AccessibilityJson.Default.OsWorldAnswer }, BadRequest, NoA11yBus],
        },
        new("GET", "/accessibility/tree", "accessibility", "Accessibility tree",
            "The tree with stable element ids and screen bounds, as JSON, XML or one line per element; applications are walked in parallel, each within its time budget (truncated names what was cut).")
        {
            Parameters =
            [
                new("format", "string", "Answer format.") { Enum = ["json", "xml", "text"], Default = "json" },
                new("app", "string", "Only the application of this name."),
                new("window", "string", "`active`: only each application's active window.") { Enum = ["active", "all"] },
                new("visible_only", "boolean", "Drop elements not visible and showing.") { Default = "false" },
                new("max_depth", "integer", "Deepest level.") { Minimum = 1 },
                new("max_nodes", "integer", "Most elements.") { Minimum = 1 },
                A11yTimeout, A11yScale,
            ],
            Responses =
            [
                new(200, "The tree (JSON; application/xml or text/plain for those formats).") { Json = Sandbox.Accessibility.AccessibilityJson.Default.TreeAnswer },
                BadRequest, NoA11yBus,
            ],
        },
        new("GET", "/accessibility/find", "accessibility", "Find elements",
            "Elements matching role, name, text and states (exact, substring or regex).")
        {
            Parameters =
            [
                new("role", "string", "Role name (push button, text ...)."),
                new("name", "string", "Accessible name."),
                new("text", "string", "Text content or value."),
                new("states", "string", "Comma-separated states every match has (`!state`: has not)."),
                new("match", "string", "How role, name and text match.") { Enum = ["exact", "substring", "regex"], Default = "substring" },
                new("max_results", "integer", "Most elements returned.") { Minimum = 1, Maximum = 10_000, Default = "100" },
                new("app", "string", "Only the application of this name."),
                new("window", "string", "`active`: only each application's active window.") { Enum = ["active", "all"] },
                new("visible_only", "boolean", "Only visible and showing elements.") { Default = "false" },
                A11yTimeout, A11yScale,
            ],
            Responses = [new(200, "The matches.") { Json = Sandbox.Accessibility.AccessibilityJson.Default.FindAnswer }, BadRequest, NoA11yBus],
        },
        new("GET", "/accessibility/at", "accessibility", "Element at a point",
            "The deepest showing element whose bounds contain the screen point (the active window first).")
        {
            Parameters = [new("x", "integer", "X.") { Required = true }, new("y", "integer", "Y.") { Required = true }, A11yScale],
            Responses = [new(200, "The element, or null.") { Json = Sandbox.Accessibility.AccessibilityJson.Default.AtAnswer }, BadRequest, NoA11yBus],
        },
        new("GET", "/accessibility/elements/{id}", "accessibility", "One element",
            "The element read now (without children).")
        {
            Parameters = [A11yId, A11yScale],
            Responses = [new(200, "The element.") { Json = Sandbox.Accessibility.AccessibilityJson.Default.AtAnswer }, BadRequest, A11yGone, NoA11yBus],
        },
        new("POST", "/accessibility/elements/{id}/action", "accessibility", "Act on an element",
            "do_action (by name), focus, set_text, set_value or select.")
        {
            Parameters = [A11yId],
            Body = new ApiBody("The action.", new JsonObject
            {
                ["type"] = "object",
                ["required"] = new JsonArray("action"),
                ["properties"] = new JsonObject
                {
                    ["action"] = new JsonObject { ["type"] = "string", ["enum"] = Strings(["do_action", "focus", "set_text", "set_value", "select"]) },
                    ["name"] = new JsonObject { ["type"] = "string", ["description"] = "do_action: the action's name (default: the first)." },
                    ["text"] = new JsonObject { ["type"] = "string", ["description"] = "set_text: the new text." },
                    ["value"] = new JsonObject { ["type"] = "number", ["description"] = "set_value: the new value." },
                },
            }),
            Responses =
            [
                new(200, "Done; ok is what the application answered.") { Json = Sandbox.Accessibility.AccessibilityJson.Default.ActionAnswer },
                BadRequest, A11yGone,
                new(409, "The element cannot do this (no such interface).") { Json = WebJson.Default.ApiError },
                NoA11yBus,
            ],
        },

        // This document
        new("GET", OpenApiDocument.Path, "meta", "This OpenAPI document", "OpenAPI 3.1 description of every REST endpoint of this port.")
        {
            Responses = [new(200, "The document.") { ContentType = "application/json" }],
        },
    ];
}
