using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Sandbox.E2E.Infrastructure;
using Sandbox.Testing;

namespace Sandbox.E2E.Mcp;

/// <summary>The office scene on an Xvfb and an appliance with a token; one SDK client run shared by the tests.</summary>
public sealed class McpFixture : SceneFixture, IDisposable
{
    public const string Token = "mcp-e2e-token";

    public McpFixture() : base(new Dictionary<string, string?>
    {
        ["SANDBOX_TOKEN"] = Token,
        // No accessibility bus (whatever the machine has): accessibility_tree answers with a tool error.
        ["DBUS_SESSION_BUS_ADDRESS"] = null, ["AT_SPI_BUS_ADDRESS"] = null,
    })
    {
        try
        {
            // A finished recording, so recording:// resources exist.
            using (var start = Authorized(HttpMethod.Get, "/record?mode=start&video=false")) App.Http.Send(start).EnsureSuccessStatusCode();
            using (var stop = Authorized(HttpMethod.Get, "/record?mode=stop")) App.Http.Send(stop).EnsureSuccessStatusCode();
            X.MovePointer(1500, 900);
            Run = McpClientRun.Run(BaseUrl, Token, "tools", "screenshot", "screenshot_scaled", "batch", "bad_arguments", "python", "progress",
                "cancel", "resources", "ping", "terminate", "command", "command_cancel", "files", "a11y", "desktop");
        }
        catch
        {
            base.Dispose();
            throw;
        }
    }

    public McpClientRun Run { get; }
    public Rgb Scene { get; } = Rgb.Load(Repo.Scene("office.png"));

    public static HttpRequestMessage Authorized(HttpMethod method, string path)
    {
        var r = new HttpRequestMessage(method, path);
        r.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        return r;
    }

    public new void Dispose()
    {
        Run.Dispose();
        base.Dispose();
    }
}

[Collection("Mcp")]
public sealed class McpTests(McpFixture f) : IClassFixture<McpFixture>
{
    private static readonly string[] AllTools =
        ["accessibility_tree", "activate_window", "clipboard_get", "clipboard_set", "computer", "find_elements", "launch_app", "list_directory",
         "list_windows", "read_file", "run_command", "run_python", "screenshot", "wait", "write_file"];

    private static JsonElement Tool(JsonElement tools, string name) =>
        tools.EnumerateArray().Single(t => t.GetProperty("name").GetString() == name);

    [Fact]
    public void Initialize_negotiates_the_current_revision_and_lists_tools_with_truthful_annotations()
    {
        Assert.Equal("2025-11-25", f.Run.Result.GetProperty("protocol").GetString());
        var tools = f.Run.Step("tools");
        Assert.Equal(AllTools, tools.EnumerateArray().Select(t => t.GetProperty("name").GetString()).Order());
        foreach (var reads in new[] { "read_file", "list_directory", "accessibility_tree", "find_elements" })
        {
            Assert.True(Tool(tools, reads).GetProperty("annotations").GetProperty("readOnlyHint").GetBoolean(), reads);
            Assert.False(Tool(tools, reads).GetProperty("annotations").GetProperty("destructiveHint").GetBoolean(), reads);
        }
        foreach (var writes in new[] { "write_file", "run_command" })
        {
            Assert.False(Tool(tools, writes).GetProperty("annotations").GetProperty("readOnlyHint").GetBoolean(), writes);
            Assert.True(Tool(tools, writes).GetProperty("annotations").GetProperty("destructiveHint").GetBoolean(), writes);
        }
        // The schemas are the REST contracts': /process/run's body, /files' and /accessibility/tree's parameters.
        var run = Tool(tools, "run_command").GetProperty("schema").GetProperty("properties");
        Assert.True(run.TryGetProperty("command", out _));
        Assert.True(run.TryGetProperty("timeout_s", out _));
        Assert.Contains("path", Tool(tools, "read_file").GetProperty("schema").GetProperty("required").EnumerateArray().Select(e => e.GetString()));
        Assert.True(Tool(tools, "list_directory").GetProperty("schema").GetProperty("properties").TryGetProperty("depth", out _));
        var tree = Tool(tools, "accessibility_tree").GetProperty("schema").GetProperty("properties");
        Assert.True(tree.TryGetProperty("max_depth", out _));
        Assert.False(tree.TryGetProperty("format", out _));

        var shot = Tool(tools, "screenshot");
        Assert.True(shot.GetProperty("annotations").GetProperty("readOnlyHint").GetBoolean());
        Assert.False(shot.GetProperty("annotations").GetProperty("destructiveHint").GetBoolean());
        var props = shot.GetProperty("schema").GetProperty("properties");
        Assert.Equal(["png", "jpeg"], props.GetProperty("format").GetProperty("enum").EnumerateArray().Select(e => e.GetString()));
        Assert.True(props.TryGetProperty("max_width", out _));
        Assert.False(props.TryGetProperty("response", out _));

        var computer = Tool(tools, "computer");
        Assert.False(computer.GetProperty("annotations").GetProperty("readOnlyHint").GetBoolean());
        Assert.True(computer.GetProperty("annotations").GetProperty("destructiveHint").GetBoolean());
        var actions = computer.GetProperty("schema").GetProperty("properties").GetProperty("action").GetProperty("enum");
        Assert.Contains("left_click", actions.EnumerateArray().Select(e => e.GetString()));

        var python = Tool(tools, "run_python");
        Assert.False(python.GetProperty("annotations").GetProperty("readOnlyHint").GetBoolean());
        var schema = python.GetProperty("schema");
        Assert.Equal("object", schema.GetProperty("type").GetString());
        Assert.Contains("code", schema.GetProperty("required").EnumerateArray().Select(e => e.GetString()));
        Assert.Contains("IPython", schema.GetProperty("properties").GetProperty("code").GetProperty("description").GetString());
    }

    [Fact]
    public void Screenshot_tool_image_decodes_to_the_scenes_pixels()
    {
        var s = f.Run.Step("screenshot");
        Assert.False(s.GetProperty("isError").GetBoolean());
        Assert.Equal("image/png", s.GetProperty("mime").GetString());
        var image = Rgb.Load(f.Run.File(s.GetProperty("file").GetString()!));
        Assert.Equal((1920, 1080), (image.Width, image.Height));
        Assert.Empty(image.Differences(f.Scene));
        Assert.Contains("scale 1 x 1", s.GetProperty("text").GetString());
    }

    [Fact]
    public void Screenshot_tool_crops_scales_and_reports_the_scale()
    {
        var s = f.Run.Step("screenshot_scaled");
        Assert.Equal("image/jpeg", s.GetProperty("mime").GetString());
        var image = Rgb.Load(f.Run.File(s.GetProperty("file").GetString()!));
        Assert.Equal((400, 300), (image.Width, image.Height));
        var text = s.GetProperty("text").GetString()!;
        Assert.Contains("scale 0.5 x 0.5", text);
        Assert.Contains("\"region\":[100,50,800,600]", text);
    }

    [Fact]
    public void Computer_click_moves_the_pointer_where_xdotool_says()
    {
        f.X.MovePointer(10, 10);
        using var run = McpClientRun.Run(f.BaseUrl, McpFixture.Token, "click");
        var click = run.Step("click");
        Assert.False(click.GetProperty("isError").GetBoolean(), click.GetProperty("text").GetString());
        Assert.Equal((613, 427), f.X.PointerPosition());
        using var answer = JsonDocument.Parse(click.GetProperty("text").GetString()!);
        Assert.Equal("ok", answer.RootElement.GetProperty("status").GetString());
    }

    [Fact]
    public void Computer_batch_runs_in_order_and_returns_the_screenshot_after_as_image_content()
    {
        var b = f.Run.Step("batch");
        Assert.False(b.GetProperty("isError").GetBoolean(), b.GetProperty("text").GetString());
        Assert.Equal(["image/png"], b.GetProperty("images").EnumerateArray().Select(e => e.GetString()));
        using var answer = JsonDocument.Parse(b.GetProperty("text").GetString()!);
        var results = answer.RootElement.GetProperty("results");
        Assert.Equal([250, 260], results[1].GetProperty("coordinate").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal([250, 260], answer.RootElement.GetProperty("screenshot_after").GetProperty("mouse_position").EnumerateArray().Select(e => e.GetInt32()));
    }

    [Fact]
    public async Task Bad_arguments_are_tool_errors_unknown_tools_are_protocol_errors_and_nothing_crashes()
    {
        var a = f.Run.Step("bad_arguments");
        foreach (var name in new[] { "unknown_action", "off_screen", "wrong_type", "bad_quality", "unknown_argument", "bad_region", "python_no_code", "python_wrong_type" })
        {
            var r = a.GetProperty(name);
            Assert.True(r.GetProperty("isError").GetBoolean(), $"{name}: {r}");
            Assert.False(string.IsNullOrWhiteSpace(r.GetProperty("text").GetString()), name);
        }
        Assert.Contains("quality", a.GetProperty("bad_quality").GetProperty("text").GetString());
        Assert.Contains("nonsense", a.GetProperty("unknown_argument").GetProperty("text").GetString());
        Assert.Equal(-32602, a.GetProperty("unknown_tool").GetProperty("code").GetInt32());
        using var health = await f.App.Http.GetAsync("/health");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    [Fact]
    public void Run_python_keeps_state_returns_png_display_data_as_image_content_and_tracebacks_as_errors()
    {
        var p = f.Run.Step("python");
        Assert.Equal("set", p.GetProperty("first").GetString());
        Assert.Equal("42\nOut: 141", p.GetProperty("second").GetString());
        Assert.False(p.GetProperty("secondIsError").GetBoolean());

        var png = p.GetProperty("png");
        Assert.False(png.GetProperty("isError").GetBoolean(), png.GetProperty("text").GetString());
        Assert.Equal("image/png", png.GetProperty("mime").GetString());
        var image = Rgb.Load(f.Run.File(png.GetProperty("file").GetString()!));
        Assert.Equal((64, 32), (image.Width, image.Height));
        Assert.Equal(((byte)10, (byte)200, (byte)30), image.At(40, 20));

        var error = p.GetProperty("error");
        Assert.True(error.GetProperty("isError").GetBoolean());
        Assert.Contains("ZeroDivisionError", error.GetProperty("text").GetString());
        Assert.Contains("1/0", error.GetProperty("text").GetString());
        Assert.Equal("out\n[stderr] err", p.GetProperty("stderr").GetString());
    }

    [Fact]
    public void Run_python_sends_progress_notifications_while_it_runs()
    {
        var p = f.Run.Step("progress");
        Assert.Equal("tick 0\ntick 1\ntick 2", p.GetProperty("text").GetString());
        Assert.True(p.GetProperty("notifications").GetInt32() >= 3, p.ToString());
    }

    [Fact]
    public void Cancellation_interrupts_a_sleeping_cell_and_the_session_keeps_its_state()
    {
        var c = f.Run.Step("cancel");
        Assert.True(c.GetProperty("started").GetBoolean());
        Assert.StartsWith("rejected", c.GetProperty("outcome").GetString());
        // y = 8 never ran: the sleep was interrupted, and the kernel (with y = 7) answered the next call.
        Assert.Equal("after 7", c.GetProperty("after").GetString());
        Assert.False(c.GetProperty("afterIsError").GetBoolean());
    }

    [Fact]
    public void Resources_list_and_read_the_screen_and_recordings()
    {
        var r = f.Run.Step("resources");
        var uris = r.GetProperty("uris").EnumerateArray().Select(e => e.GetString()!).ToList();
        Assert.Contains("screen://current", uris);
        Assert.Contains(uris, u => u.StartsWith("recording://actions-") && u.EndsWith(".json"));
        Assert.Contains(uris, u => u.StartsWith("recording://events-") && u.EndsWith(".jsonl"));
        Assert.Equal(["recording://{name}", "recording://{trajectory}/{name}"], r.GetProperty("templates").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("image/png", r.GetProperty("screenMime").GetString());
        var screen = Rgb.Load(f.Run.File(r.GetProperty("screenFile").GetString()!));
        Assert.Equal((1920, 1080), (screen.Width, screen.Height));
        using var actions = JsonDocument.Parse(r.GetProperty("recordingText").GetString()!);
        Assert.Equal(JsonValueKind.Array, actions.RootElement.ValueKind);
        Assert.Equal(-32002, r.GetProperty("missing").GetProperty("code").GetInt32());
    }

    [Fact]
    public void Run_command_returns_stdout_stderr_and_the_exit_code_with_progress_while_it_runs()
    {
        var c = f.Run.Step("command");
        var ok = c.GetProperty("ok");
        Assert.False(ok.GetProperty("isError").GetBoolean(), ok.GetProperty("text").GetString());
        var text = ok.GetProperty("text").GetString()!;
        Assert.StartsWith("exit code 3\n", text);
        Assert.Contains("--- stdout ---\nhello from sh\n", text);
        Assert.Contains("--- stderr ---\noops\n", text);
        Assert.Contains("\"exit_code\":3", text);
        Assert.Contains("--- stdout ---\na b|c|\n", c.GetProperty("argv").GetProperty("text").GetString());
        Assert.Contains("done", c.GetProperty("slow").GetProperty("text").GetString());
        Assert.True(c.GetProperty("slow").GetProperty("notifications").GetInt32() >= 1);
        Assert.True(c.GetProperty("bad").GetProperty("isError").GetBoolean());
        Assert.Contains("timeout_s", c.GetProperty("bad").GetProperty("text").GetString());
        Assert.True(c.GetProperty("missing").GetProperty("isError").GetBoolean());
    }

    [Fact]
    public void Cancelling_run_command_kills_its_process_group()
    {
        var c = f.Run.Step("command_cancel");
        Assert.True(c.GetProperty("started").GetBoolean(), c.ToString());
        Assert.StartsWith("rejected", c.GetProperty("outcome").GetString());
        Assert.Contains("after", c.GetProperty("after").GetString());
        var dir = c.GetProperty("dir").GetString()!;
        foreach (var name in new[] { "shell.pid", "child.pid" })
        {
            var pid = int.Parse(File.ReadAllText(Path.Combine(dir, name)).Trim(), System.Globalization.CultureInfo.InvariantCulture);
            // Gone, or a zombie nobody reaps yet (the kill is SIGKILL to the group): wait for it generously.
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (Alive(pid) && DateTime.UtcNow < deadline) Thread.Sleep(100);
            Assert.False(Alive(pid), $"{name} {pid} still runs after the cancel");
        }

        static bool Alive(int pid)
        {
            try { return !File.ReadAllText($"/proc/{pid}/stat").Split(") ")[1].StartsWith('Z'); }
            catch (IOException) { return false; }
        }
    }

    [Fact]
    public void Clipboard_windows_and_wait_tools_call_the_desktop_areas()
    {
        var s = f.Run.Step("desktop");
        foreach (var step in new[] { "set", "get", "windows", "settled" })
            Assert.False(s.GetProperty(step).GetProperty("isError").GetBoolean(), $"{step}: {s.GetProperty(step)}");
        // What clipboard_set put on the clipboard, another X client (xclip) reads, and clipboard_get returns.
        Assert.Equal("Grüße, 世界 — ñ", s.GetProperty("get").GetProperty("text").GetString());
        var (code, xclip, _) = Processes.Run("xclip", ["-o", "-selection", "clipboard"], new Dictionary<string, string?>(f.X.Env), timeoutMs: 10_000);
        Assert.Equal(0, code);
        Assert.Equal("Grüße, 世界 — ñ", xclip);
        using var windows = JsonDocument.Parse(s.GetProperty("windows").GetProperty("text").GetString()!);
        Assert.True(windows.RootElement.TryGetProperty("windows", out _));
        using var settled = JsonDocument.Parse(s.GetProperty("settled").GetProperty("text").GetString()!);
        Assert.True(settled.RootElement.GetProperty("met").GetBoolean());
        Assert.True(s.GetProperty("badWait").GetProperty("isError").GetBoolean());
        Assert.True(s.GetProperty("noWindow").GetProperty("isError").GetBoolean());
    }

    [Fact]
    public void Write_file_then_read_file_round_trips_text_and_bytes_and_list_directory_lists_them()
    {
        var s = f.Run.Step("files");
        var dir = s.GetProperty("dir").GetString()!;
        foreach (var step in new[] { "writeText", "readText", "writeBin", "readB64", "readBlob", "list" })
            Assert.False(s.GetProperty(step).GetProperty("isError").GetBoolean(), $"{step}: {s.GetProperty(step)}");
        // The bytes on disk are what was written, with the 0600 default.
        Assert.Equal("héllo\nwörld\n", File.ReadAllText(Path.Combine(dir, "note.txt")));
        var bytes = Enumerable.Range(0, 256).Select(i => (byte)i).ToArray();
        Assert.Equal(bytes, File.ReadAllBytes(Path.Combine(dir, "bytes.bin")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(dir, "bytes.bin")));
        // And they come back.
        Assert.Equal("héllo\nwörld\n", s.GetProperty("readText").GetProperty("text").GetString());
        Assert.Equal(bytes, Convert.FromBase64String(s.GetProperty("readB64").GetProperty("text").GetString()!));
        Assert.Equal(bytes, Convert.FromBase64String(s.GetProperty("readBlob").GetProperty("blob").GetString()!));
        Assert.StartsWith("file:///", s.GetProperty("readBlob").GetProperty("uri").GetString());
        var list = s.GetProperty("list").GetProperty("text").GetString()!;
        Assert.Contains("file\t256\t", list);
        Assert.Contains(Path.Combine(dir, "note.txt"), list);
        Assert.Contains(Path.Combine(dir, "bytes.bin"), list);
        Assert.True(s.GetProperty("missing").GetProperty("isError").GetBoolean());
        Assert.Contains("no such file", s.GetProperty("missing").GetProperty("text").GetString());
        Assert.True(s.GetProperty("noDir").GetProperty("isError").GetBoolean());
        Assert.False(File.Exists(Path.Combine(dir, "no", "such", "x.txt")));
        // An endless device is cut at the limit, not read into memory forever.
        Assert.True(s.GetProperty("device").GetProperty("isError").GetBoolean());
        Assert.Contains("SANDBOX_MCP_MAX_RESOURCE_BYTES", s.GetProperty("device").GetProperty("text").GetString());
    }

    [Fact]
    public void Accessibility_tools_without_a_bus_are_tool_errors_not_protocol_errors()
    {
        var a = f.Run.Step("a11y");
        foreach (var step in new[] { "tree", "find", "bad" })
        {
            Assert.True(a.GetProperty(step).GetProperty("isError").GetBoolean(), $"{step}: {a.GetProperty(step)}");
            Assert.False(string.IsNullOrWhiteSpace(a.GetProperty(step).GetProperty("text").GetString()), step);
        }
        Assert.Contains("window", a.GetProperty("bad").GetProperty("text").GetString());
    }

    [Fact]
    public void Ping_answers_and_a_terminated_session_is_gone()
    {
        f.Run.Step("ping");
        Assert.Equal(404, f.Run.Step("terminate").GetProperty("status").GetInt32());
    }

    [Fact]
    public void Inspector_cli_lists_the_tools()
    {
        var catalog = Path.Combine(f.Run.OutDir, "inspector-catalog.json");
        var (code, stdout, stderr) = Processes.Run("node",
            [Path.Combine(McpClientRun.ScriptDir, "node_modules", "@modelcontextprotocol", "inspector", "clients", "launcher", "build", "index.js"),
             "--cli", $"{f.BaseUrl}/mcp", "--transport", "http", "--header", $"Authorization: Bearer {McpFixture.Token}", "--method", "tools/list"],
            new Dictionary<string, string?> { ["MCP_CATALOG_PATH"] = catalog }, timeoutMs: 120_000);
        Assert.True(code == 0, stderr + stdout);
        using var doc = JsonDocument.Parse(stdout);
        Assert.Equal(AllTools,
            doc.RootElement.GetProperty("tools").EnumerateArray().Select(t => t.GetProperty("name").GetString()).Order());
    }

    // ---- raw HTTP: the transport's rules ----

    private static StringContent Rpc(string json) => new(json, Encoding.UTF8, "application/json");

    private const string InitializeBody =
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"VERSION\",\"capabilities\":{},\"clientInfo\":{\"name\":\"raw\",\"version\":\"1\"}}}";

    private async Task<(HttpResponseMessage Response, JsonElement Body)> PostAsync(string body, string? session = null, bool token = true, string? origin = null)
    {
        var request = token ? McpFixture.Authorized(HttpMethod.Post, "/mcp") : new HttpRequestMessage(HttpMethod.Post, "/mcp");
        request.Content = Rpc(body);
        request.Headers.Accept.ParseAdd("application/json, text/event-stream");
        if (session is not null) request.Headers.Add("Mcp-Session-Id", session);
        if (origin is not null) request.Headers.Add("Origin", origin);
        var response = await f.App.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        // tools/call is answered as SSE (Accept lists it): the last data: line is the response.
        if (text.StartsWith("event:", StringComparison.Ordinal))
            text = text.Split('\n').Last(l => l.StartsWith("data: ", StringComparison.Ordinal))["data: ".Length..];
        return (response, text.Length > 0 && text.TrimStart().StartsWith('{') ? JsonDocument.Parse(text).RootElement.Clone() : default);
    }

    [Fact]
    public async Task Token_is_required_and_a_bearer_token_is_accepted()
    {
        var (refused, _) = await PostAsync(InitializeBody.Replace("VERSION", "2025-11-25"), token: false);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        var (accepted, body) = await PostAsync(InitializeBody.Replace("VERSION", "2025-11-25"));
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        Assert.True(accepted.Headers.TryGetValues("Mcp-Session-Id", out var ids) && ids.Single().Length >= 32);
        Assert.Equal("2025-11-25", body.GetProperty("result").GetProperty("protocolVersion").GetString());
    }

    [Fact]
    public async Task A_foreign_origin_is_refused()
    {
        var (r, _) = await PostAsync(InitializeBody.Replace("VERSION", "2025-11-25"), origin: "http://evil.example");
        Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode);
    }

    [Fact]
    public async Task The_previous_revision_is_negotiated_and_an_unknown_one_gets_the_current()
    {
        var (_, previous) = await PostAsync(InitializeBody.Replace("VERSION", "2025-06-18"));
        Assert.Equal("2025-06-18", previous.GetProperty("result").GetProperty("protocolVersion").GetString());
        var (_, unknown) = await PostAsync(InitializeBody.Replace("VERSION", "1999-01-01"));
        Assert.Equal("2025-11-25", unknown.GetProperty("result").GetProperty("protocolVersion").GetString());
    }

    [Fact]
    public async Task Protocol_errors_are_json_rpc_errors_with_the_transports_statuses()
    {
        var (noSession, a) = await PostAsync("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\"}");
        Assert.Equal(HttpStatusCode.BadRequest, noSession.StatusCode);
        Assert.Equal(-32600, a.GetProperty("error").GetProperty("code").GetInt32());

        var (unknown, b) = await PostAsync("{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\"}", session: "0123456789abcdef0123456789abcdef");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(-32001, b.GetProperty("error").GetProperty("code").GetInt32());

        var (badJson, c) = await PostAsync("{\"jsonrpc\":");
        Assert.Equal(HttpStatusCode.BadRequest, badJson.StatusCode);
        Assert.Equal(-32700, c.GetProperty("error").GetProperty("code").GetInt32());

        var (init, _) = await PostAsync(InitializeBody.Replace("VERSION", "2025-11-25"));
        var session = init.Headers.GetValues("Mcp-Session-Id").Single();
        var (_, d) = await PostAsync("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"no/such\"}", session);
        Assert.Equal(-32601, d.GetProperty("error").GetProperty("code").GetInt32());
        var (_, e) = await PostAsync("{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/call\",\"params\":{\"arguments\":{}}}", session);
        Assert.Equal(-32602, e.GetProperty("error").GetProperty("code").GetInt32());
        var (notification, _) = await PostAsync("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}", session);
        Assert.Equal(HttpStatusCode.Accepted, notification.StatusCode);

        using var get = McpFixture.Authorized(HttpMethod.Get, "/mcp");
        get.Headers.Add("Mcp-Session-Id", session);
        using var notAcceptable = await f.App.Http.SendAsync(get);
        Assert.Equal(HttpStatusCode.NotAcceptable, notAcceptable.StatusCode);

        using var delete = McpFixture.Authorized(HttpMethod.Delete, "/mcp");
        delete.Headers.Add("Mcp-Session-Id", session);
        using var deleted = await f.App.Http.SendAsync(delete);
        Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        var (gone, _) = await PostAsync("{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"ping\"}", session);
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }
}
