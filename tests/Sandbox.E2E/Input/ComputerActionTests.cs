using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Sandbox.Testing;

namespace Sandbox.E2E.Input;

/// <summary>
/// /computer/action(s) on the published binary. Effects are observed by independent clients: the Tk
/// probe window (events, text, a draggable box), xdotool (pointer), xev (raw wheel buttons), python3-xlib
/// (what is held down) and xmodmap (the keymap).
/// </summary>
public sealed class ComputerActionTests(InputFixture f) : IClassFixture<InputFixture>
{
    private const string Typed = "Grüße, 世界 — ñ";

    private async Task<(int Status, JsonElement Body)> Post(string path, string json)
    {
        using var content = new StringContent(json, Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var r = await f.App.Http.PostAsync(path, content);
        var body = await r.Content.ReadAsStringAsync();
        return ((int)r.StatusCode, JsonDocument.Parse(body).RootElement.Clone());
    }

    private async Task<JsonElement> Ok(string path, string json)
    {
        var (status, body) = await Post(path, json);
        Assert.True(status == 200, $"{path} {json} → {status}: {body}");
        return body;
    }

    private Task<JsonElement> Act(string json) => Ok("/computer/action", json);

    private static IEnumerable<JsonElement> Of(IEnumerable<JsonElement> events, string kind) =>
        events.Where(e => EventProbe.Kind(e) == kind);

    private static int Int(JsonElement e, string name) => e.GetProperty(name).GetInt32();

    [Fact]
    public async Task A_click_lands_where_asked_as_another_client_sees_it()
    {
        var mark = f.Probe.Mark;
        var body = await Act("""{"action": "left_click", "coordinate": [300, 100]}""");
        Assert.Equal("ok", body.GetProperty("status").GetString());
        Assert.Equal((300, 100), f.X.PointerPosition());
        var events = f.Probe.EventsSince(mark);
        var press = Assert.Single(Of(events, "press"));
        Assert.Equal((1, 300, 100), (Int(press, "button"), Int(press, "x"), Int(press, "y")));
        Assert.Equal(1, Int(Assert.Single(Of(events, "release")), "button"));
    }

    [Fact]
    public async Task Right_middle_double_and_triple_clicks_send_their_buttons_and_counts()
    {
        var mark = f.Probe.Mark;
        var body = await Ok("/computer/actions", """
            {"actions": [
              {"action": "right_click", "coordinate": [310, 110]},
              {"action": "middle_click"},
              {"action": "double_click", "coordinate": [320, 120]},
              {"action": "triple_click"}
            ]}
            """);
        Assert.All(body.GetProperty("results").EnumerateArray(), r => Assert.Equal("ok", r.GetProperty("status").GetString()));
        var presses = Of(f.Probe.EventsSince(mark), "press").Select(e => Int(e, "button")).ToArray();
        Assert.Equal(new[] { 3, 2, 1, 1, 1, 1, 1 }, presses);
    }

    [Fact]
    public async Task A_click_holds_the_keys_named_in_text_and_releases_them()
    {
        var mark = f.Probe.Mark;
        await Act("""{"action": "left_click", "coordinate": [330, 130], "text": "shift"}""");
        var events = f.Probe.EventsSince(mark);
        var kinds = events.Select(e => EventProbe.Kind(e) + ":" + (e.TryGetProperty("keysym", out var k) ? k.GetString() : e.GetProperty("button").GetInt32().ToString())).ToArray();
        Assert.Equal(new[] { "key:Shift_L", "press:1", "release:1", "keyup:Shift_L" }, kinds);
        Assert.Equal(1, Int(Of(events, "press").Single(), "state") & 1);   // Shift was down during the click
    }

    [Fact]
    public async Task Coordinates_of_a_scaled_screenshot_map_back_exactly()
    {
        // The scale exactly as /screenshot reported it.
        var shot = await f.App.GetJsonAsync("/screenshot?max_width=1280&response=base64");
        var scale = shot.GetProperty("scale").GetRawText();
        Assert.Equal("[1280,720]", shot.GetProperty("image_size").GetRawText());
        await Act($$"""{"action": "mouse_move", "coordinate": [640, 360], "scale": {{scale}}}""");
        Assert.Equal((960, 540), f.X.PointerPosition());
        await Act("""{"action": "mouse_move", "coordinate": [1279, 719], "max_width": 1280, "max_height": 800}""");
        Assert.Equal((1919, 1079), f.X.PointerPosition());

        var mark = f.Probe.Mark;
        await Act("""{"action": "left_click", "coordinate": [170, 60], "max_width": 960}""");
        var press = Assert.Single(Of(f.Probe.EventsSince(mark), "press"));
        Assert.Equal((340, 120), (Int(press, "x"), Int(press, "y")));

        var where = await Act("""{"action": "cursor_position", "max_width": 960}""");
        Assert.Equal("[170,60]", where.GetProperty("coordinate").GetRawText());
        Assert.Equal("[340,120]", where.GetProperty("screen_coordinate").GetRawText());
    }

    [Fact]
    public async Task An_off_screen_coordinate_is_refused_naming_the_action()
    {
        f.X.MovePointer(50, 60);
        var (status, body) = await Post("/computer/actions", """
            {"actions": [{"action": "mouse_move", "coordinate": [10, 10]},
                         {"action": "left_click", "coordinate": [1920, 5]},
                         {"action": "mouse_move", "coordinate": [20, 20]}]}
            """);
        Assert.Equal(400, status);
        Assert.Contains("actions[1] (left_click)", body.GetProperty("message").GetString());
        Assert.Equal(1, Int(body, "failed_index"));
        Assert.Equal(new[] { "ok", "error", "skipped" },
            body.GetProperty("results").EnumerateArray().Select(r => r.GetProperty("status").GetString()));
        Assert.Equal((10, 10), f.X.PointerPosition());   // the first action ran, nothing after the failure

        (status, body) = await Post("/computer/action", """{"action": "mouse_move", "coordinate": [700, 500], "max_width": 640}""");
        Assert.Equal(400, status);
        Assert.Contains("mouse_move", body.GetProperty("message").GetString());
        Assert.Contains("640x360 screenshot space", body.GetProperty("message").GetString());
        Assert.Equal((10, 10), f.X.PointerPosition());
    }

    [Theory]
    [InlineData("us")]
    [InlineData("de")]
    public async Task Unicode_text_arrives_exactly_whatever_the_layout(string layout)
    {
        f.SetLayout(layout);
        try
        {
            await Act($$"""{"action": "left_click", "coordinate": [{{EventProbe.TextX}}, {{EventProbe.TextY}}]}""");
            f.Probe.ClearText();
            // Layout-sensitive ASCII too: y/z swap places in German, @ and braces need AltGr there.
            const string ascii = "Hello, World! yz @ {x} [1+2=3] ~`|\\";
            var mark = f.Probe.Mark;
            await Act(JsonSerializer.Serialize(new Dictionary<string, string> { ["action"] = "type", ["text"] = Typed + "\n" + ascii }));
            var text = f.Probe.Text();
            Assert.True(text == Typed + "\n" + ascii, $"typed '{text}'\n{Diagnosis(mark)}");
        }
        finally
        {
            f.SetLayout("us");
        }
    }

    [Fact]
    public async Task Keys_are_found_in_the_active_layout()
    {
        f.SetLayout("de");
        try
        {
            var mark = f.Probe.Mark;
            await Act("""{"action": "key", "text": "z"}""");
            await Act("""{"action": "key", "text": "ctrl+shift+t"}""");
            var keys = Of(f.Probe.EventsSince(mark), "key").ToArray();
            Assert.Equal(new[] { "z", "Control_L", "Shift_L", "T" }, keys.Select(k => k.GetProperty("keysym").GetString()));
            Assert.Equal(5, Int(keys[3], "state") & 5);   // Shift and Control held for the T
        }
        finally
        {
            f.SetLayout("us");
        }
    }

    [Fact]
    public async Task Key_names_of_xdotool_and_pyautogui_press_their_keys()
    {
        var mark = f.Probe.Mark;
        await Ok("/computer/actions", """
            {"actions": [{"action": "key", "text": "Return"}, {"action": "key", "text": "super"},
                         {"action_type": "PRESS", "parameters": {"key": "pgdn"}},
                         {"action_type": "HOTKEY", "parameters": {"keys": ["alt", "F4"]}},
                         {"action": "key", "text": "ctrl+a BackSpace"}]}
            """);
        var keys = Of(f.Probe.EventsSince(mark), "key").Select(k => k.GetProperty("keysym").GetString()).ToArray();
        Assert.Equal(new[] { "Return", "Super_L", "Next", "Alt_L", "F4", "Control_L", "a", "BackSpace" }, keys);
    }

    [Fact]
    public async Task Scrolls_send_one_wheel_button_per_unit()
    {
        using var xev = new RootButtonLog(f.X, 1500, 900);
        await Ok("/computer/actions", """
            {"actions": [{"action": "scroll", "coordinate": [1500, 900], "scroll_direction": "down", "scroll_amount": 3},
                         {"action": "scroll", "scroll_direction": "up", "scroll_amount": 1},
                         {"action": "scroll", "scroll_direction": "left", "scroll_amount": 2},
                         {"action_type": "SCROLL", "parameters": {"dx": 1, "dy": 0}}]}
            """);
        Assert.Equal(new[] { 5, 5, 5, 4, 6, 6, 7 }, xev.WaitForPresses(7));
    }

    [Fact]
    public async Task A_drag_moves_a_widget()
    {
        var (x0, y0) = f.Probe.Box();
        var mark = f.Probe.Mark;
        await Act($$"""{"action": "left_click_drag", "start_coordinate": [{{x0 + 50}}, {{y0 + 50}}], "coordinate": [{{x0 + 350}}, {{y0 + 150}}]}""");
        var dropped = f.Probe.WaitFor(e => EventProbe.Kind(e) == "dropped", mark, "the drop");
        Assert.Equal((x0 + 300, y0 + 100), (Int(dropped, "x"), Int(dropped, "y")));

        // OSWorld: press where the pointer is, drag to the point.
        mark = f.Probe.Mark;
        await Ok("/computer/actions", $$"""
            [{"action_type": "MOVE_TO", "x": {{x0 + 350}}, "y": {{y0 + 150}} },
             {"action_type": "DRAG_TO", "parameters": {"x": {{x0 + 50}}, "y": {{y0 + 50}} } }]
            """);
        dropped = f.Probe.WaitFor(e => EventProbe.Kind(e) == "dropped", mark, "the second drop");
        Assert.Equal((x0, y0), (Int(dropped, "x"), Int(dropped, "y")));
    }

    [Fact]
    public async Task Nothing_stays_pressed_after_a_failing_batch()
    {
        var (status, body) = await Post("/computer/actions", """
            {"actions": [{"action_type": "KEY_DOWN", "parameters": {"key": "shift"}},
                         {"action_type": "KEY_DOWN", "parameters": {"key": "a"}},
                         {"action": "left_mouse_down", "coordinate": [700, 500]},
                         {"action_type": "MOUSE_DOWN", "parameters": {"button": "right"}},
                         {"action": "mouse_move", "coordinate": [-5, 5]}]}
            """);
        Assert.Equal(400, status);
        Assert.Equal(4, Int(body, "failed_index"));
        var state = XState.Read(f.X);
        Assert.Empty(state.Keys);
        Assert.Equal(0, state.Buttons);
        Assert.Equal(new[] { 700, 500 }, state.Pointer);
    }

    [Fact]
    public async Task Keys_held_within_a_request_apply_to_its_later_actions_only()
    {
        await Act($$"""{"action": "left_click", "coordinate": [{{EventProbe.TextX}}, {{EventProbe.TextY}}]}""");
        f.Probe.ClearText();
        await Ok("/computer/actions", """
            [{"action_type": "KEY_DOWN", "parameters": {"key": "shift"}},
             {"action_type": "TYPING", "parameters": {"text": "ab"}},
             {"action_type": "KEY_UP", "parameters": {"key": "shift"}},
             {"action_type": "TYPING", "parameters": {"text": "c"}},
             {"action_type": "KEY_DOWN", "parameters": {"key": "shift"}}]
            """);
        await Act("""{"action": "type", "text": "d"}""");   // the shift left down above was released
        // Characters with no case stay themselves under a held Shift, even on a shared spare keycode.
        var mark = f.Probe.Mark;
        await Ok("/computer/actions", """
            [{"action_type": "KEY_DOWN", "parameters": {"key": "shift"}},
             {"action_type": "TYPING", "parameters": {"text": "世界ж"}}]
            """);
        var text = f.Probe.Text();
        Assert.True(text == "ABcd世界ж", $"typed '{text}'\n{Diagnosis(mark)}");
        Assert.Empty(XState.Read(f.X).Keys);
    }

    /// <summary>For a typing failure: the key events the probe saw, and the keymap's spare keycodes now.</summary>
    private string Diagnosis(int mark)
    {
        var keys = f.Probe.EventsSince(mark).Where(e => EventProbe.Kind(e) == "key")
            .Select(e => $"{Int(e, "keycode")}:{e.GetProperty("keysym").GetString()}:'{e.GetProperty("char").GetString()}':{Int(e, "state")}");
        var high = f.Keymap().Split('\n').Where(l => l.StartsWith("keycode 2", StringComparison.Ordinal) && int.Parse(l[8..11].Trim()) >= 240);
        return $"key presses (keycode:keysym:char:state): {string.Join(" ", keys)}\nkeymap now:\n{string.Join("\n", high)}";
    }

    [Fact]
    public async Task Concurrent_requests_are_serialized()
    {
        await Act($$"""{"action": "left_click", "coordinate": [{{EventProbe.TextX}}, {{EventProbe.TextY}}]}""");
        f.Probe.ClearText();
        var mark = f.Probe.Mark;
        var hold = Post("/computer/action", """{"action": "hold_key", "text": "shift", "duration": 0.4}""");
        f.Probe.WaitFor(e => EventProbe.Kind(e) == "key" && e.GetProperty("keysym").GetString() == "Shift_L", mark, "shift down");
        var type = Post("/computer/action", """{"action": "type", "text": "a"}""");
        await Task.WhenAll(hold, type);
        Assert.Equal(200, hold.Result.Status);
        Assert.Equal(200, type.Result.Status);
        // Typed after the hold ended, so not shifted.
        Assert.Equal("a", f.Probe.Text());
    }

    [Fact]
    public async Task Remapped_keycodes_are_restored_after_typing()
    {
        var before = f.Keymap();
        await Act($$"""{"action": "left_click", "coordinate": [{{EventProbe.TextX}}, {{EventProbe.TextY}}]}""");
        await Act("""{"action": "type", "text": "世界€ĳ"}""");
        Assert.Contains("U4E16", f.Keymap());
        var sw = Stopwatch.StartNew();
        while (f.Keymap() != before && sw.ElapsedMilliseconds < 20_000) Thread.Sleep(100);
        Assert.Equal(before, f.Keymap());
    }

    [Fact]
    public async Task Screenshot_after_shows_the_pointer_where_the_actions_left_it()
    {
        var body = await Act("""{"action": "mouse_move", "coordinate": [700, 500], "screenshot_after": true, "settle_ms": 10}""");
        var shot = body.GetProperty("screenshot_after");
        Assert.Equal("[700,500]", shot.GetProperty("mouse_position").GetRawText());
        Assert.True(File.Exists(Path.Combine(f.App.SharedDir, shot.GetProperty("screenshot_path").GetString()!)));

        body = await Ok("/computer/actions", """
            {"actions": [{"action": "mouse_move", "coordinate": [300, 200]}, {"action": "screenshot", "response": "base64"}],
             "max_width": 960, "screenshot_after": {"format": "jpeg", "response": "base64"}}
            """);
        var inline = body.GetProperty("results")[1].GetProperty("screenshot");
        Assert.Equal("[960,540]", inline.GetProperty("image_size").GetRawText());
        Assert.Equal(960, Rgb.Decode(Convert.FromBase64String(inline.GetProperty("image").GetString()!)).Width);
        Assert.Equal("jpeg", body.GetProperty("screenshot_after").GetProperty("format").GetString());
    }

    [Fact]
    public async Task Zoom_shows_a_region_of_the_agents_space_at_full_resolution()
    {
        var body = await Act("""{"action": "zoom", "region": [0, 0, 200, 100], "max_width": 960, "response": "base64"}""");
        var shot = body.GetProperty("screenshot");
        Assert.Equal("[0,0,400,200]", shot.GetProperty("region").GetRawText());
        Assert.Equal("[400,200]", shot.GetProperty("image_size").GetRawText());

        var (status, error) = await Post("/computer/action", """{"action": "zoom", "region": [0, 0, 2000, 100]}""");
        Assert.Equal(400, status);
        Assert.Contains("zoom", error.GetProperty("message").GetString());
    }

    [Fact]
    public async Task OsWorld_actions_drive_the_same_input()
    {
        await Act($$"""{"action_type": "CLICK", "parameters": {"x": {{EventProbe.TextX}}, "y": {{EventProbe.TextY}} } }""");
        f.Probe.ClearText();
        var mark = f.Probe.Mark;
        await Ok("/computer/actions", """
            [{"action_type": "TYPING", "parameters": {"text": "hi"}},
             {"action_type": "CLICK", "parameters": {"x": 310, "y": 160, "button": "right", "num_clicks": 2}},
             {"action_type": "WAIT", "parameters": {"seconds": 0}}]
            """);
        Assert.Equal("hi", f.Probe.Text());
        Assert.Equal(new[] { 3, 3 }, Of(f.Probe.EventsSince(mark), "press").Select(e => Int(e, "button")));
        Assert.Equal((310, 160), f.X.PointerPosition());
    }

    [Theory]
    [InlineData("/computer/action", """{"action": "fly"}""", "action: unknown action 'fly'")]
    [InlineData("/computer/action", """{"action": "left_click", "coordinate": [1, "2"]}""", "coordinate:")]
    [InlineData("/computer/action", """{"action": "key", "text": "ctrl+nokey"}""", "text: unknown key name 'nokey'")]
    [InlineData("/computer/actions", """{"actions": [{"action": "wait", "duration": 0}, {"action": "type"}]}""", "actions[1].text: is required")]
    [InlineData("/computer/actions", """not json""", "body: not valid JSON")]
    public async Task Bad_input_is_400_naming_the_field(string path, string json, string says)
    {
        var (status, body) = await Post(path, json);
        Assert.Equal(400, status);
        Assert.Equal("Bad Request", body.GetProperty("reason").GetString());
        Assert.StartsWith(says, body.GetProperty("message").GetString());
    }
}
