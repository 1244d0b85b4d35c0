using System.Text.Json;
using Sandbox.Capture;
using Sandbox.Input;

namespace Sandbox.Tests.Input;

public sealed class ActionParserTests
{
    private static readonly ActionParser Parser = new(new InputOptions { MaxActions = 5, MaxDurationMs = 10_000, MaxRepeat = 50 }, 16384);

    private static ComputerAction One(string json) => Parser.ParseSingle(JsonDocument.Parse(json).RootElement).Actions.Single();

    private static ActionBatch Batch(string json) => Parser.ParseBatch(JsonDocument.Parse(json).RootElement);

    private static ActionInputException SingleFails(string json) =>
        Assert.Throws<ActionInputException>(() => Parser.ParseSingle(JsonDocument.Parse(json).RootElement));

    private static ActionInputException BatchFails(string json) =>
        Assert.Throws<ActionInputException>(() => Parser.ParseBatch(JsonDocument.Parse(json).RootElement));

    [Theory]
    [InlineData("left_click", 1, 1)]
    [InlineData("right_click", 3, 1)]
    [InlineData("middle_click", 2, 1)]
    [InlineData("double_click", 1, 2)]
    [InlineData("triple_click", 1, 3)]
    public void Clicks_have_a_button_a_count_and_an_optional_coordinate(string name, int button, int clicks)
    {
        var a = One($$"""{"action": "{{name}}", "coordinate": [10, 20.5]}""");
        Assert.Equal(ActionKind.Click, a.Kind);
        Assert.Equal((MouseButton)button, a.Button);
        Assert.Equal(clicks, a.Clicks);
        Assert.Equal(new ClientPoint(10, 20.5), a.Coordinate);
        Assert.Null(One($$"""{"action": "{{name}}"}""").Coordinate);
    }

    [Fact]
    public void A_click_can_hold_keys_named_in_text()
    {
        var a = One("""{"action": "left_click", "coordinate": [1, 2], "text": "ctrl+shift"}""");
        Assert.Equal("ctrl+shift", a.Held!.ToString());
    }

    [Fact]
    public void Key_type_drag_scroll_hold_wait_and_zoom_read_their_fields()
    {
        Assert.Equal("ctrl+shift+t", One("""{"action": "key", "text": "ctrl+shift+t"}""").Chords.Single().ToString());
        Assert.Equal("Grüße, 世界", One("""{"action": "type", "text": "Grüße, 世界"}""").Text);

        var drag = One("""{"action": "left_click_drag", "start_coordinate": [1, 2], "coordinate": [3, 4]}""");
        Assert.Equal((new ClientPoint(1, 2), new ClientPoint(3, 4)), (drag.Start!.Value, drag.Coordinate!.Value));

        var scroll = One("""{"action": "scroll", "coordinate": [5, 6], "scroll_direction": "up", "scroll_amount": 3}""");
        Assert.Equal((0, -3), (scroll.ScrollX, scroll.ScrollY));
        Assert.Equal((4, 0), One("""{"action": "scroll", "scroll_direction": "right", "scroll_amount": 4}""") is var r ? (r.ScrollX, r.ScrollY) : default);

        var hold = One("""{"action": "hold_key", "text": "shift", "duration": 0.25}""");
        Assert.Equal(TimeSpan.FromMilliseconds(250), hold.Duration);
        Assert.Equal(TimeSpan.FromSeconds(2), One("""{"action": "wait", "duration": 2}""").Duration);

        var zoom = One("""{"action": "zoom", "region": [10, 20, 110, 70]}""");
        Assert.Equal((new ClientPoint(10, 20), new ClientPoint(110, 70)), zoom.ZoomRegion);
        Assert.False(zoom.Screenshot!.Annotate);
        Assert.Equal(ActionKind.CursorPosition, One("""{"action": "cursor_position"}""").Kind);
        Assert.Equal(ActionKind.MouseDown, One("""{"action": "left_mouse_down"}""").Kind);
        Assert.Equal(ActionKind.MouseUp, One("""{"action": "left_mouse_up"}""").Kind);
    }

    [Fact]
    public void A_screenshot_action_takes_the_screenshot_parameters()
    {
        var a = One("""{"action": "screenshot", "format": "jpeg", "quality": 70, "region": [0, 0, 100, 50], "response": "base64", "cursor": false}""");
        var s = a.Screenshot!;
        Assert.Equal(ImageFormat.Jpeg, s.Format);
        Assert.Equal(70, s.Quality);
        Assert.Equal(new Region(0, 0, 100, 50), s.Region);
        Assert.Equal(ScreenshotResponse.Base64, s.Response);
        Assert.False(s.Cursor);
        Assert.True(s.Annotate);
    }

    [Fact]
    public void Screenshot_parameter_errors_name_the_field()
    {
        Assert.Equal("quality", SingleFails("""{"action": "screenshot", "quality": 500}""").Field);
        Assert.Equal("response", SingleFails("""{"action": "screenshot", "response": "image"}""").Field);
        Assert.Equal("actions[0].format", BatchFails("""[{"action": "screenshot", "format": "gif"}]""").Field);
    }

    [Theory]
    [InlineData("""{"action_type": "CLICK", "parameters": {"x": 5, "y": 6, "button": "right", "num_clicks": 2}}""", "Click")]
    [InlineData("""{"action_type": "MOVE_TO", "parameters": {"x": 5, "y": 6}}""", "MouseMove")]
    [InlineData("""{"action_type": "DRAG_TO", "parameters": {"x": 5, "y": 6}}""", "Drag")]
    [InlineData("""{"action_type": "TYPING", "parameters": {"text": "hi"}}""", "Type")]
    [InlineData("""{"action_type": "PRESS", "parameters": {"key": "enter"}}""", "Key")]
    [InlineData("""{"action_type": "HOTKEY", "parameters": {"keys": ["ctrl", "c"]}}""", "Key")]
    [InlineData("""{"action_type": "SCROLL", "parameters": {"dx": 0, "dy": 2}}""", "Scroll")]
    [InlineData("""{"action_type": "MOUSE_DOWN", "parameters": {"button": "left"}}""", "MouseDown")]
    [InlineData("""{"action_type": "MOUSE_UP"}""", "MouseUp")]
    [InlineData("""{"action_type": "KEY_DOWN", "parameters": {"key": "shift"}}""", "KeyDown")]
    [InlineData("""{"action_type": "KEY_UP", "parameters": {"key": "shift"}}""", "KeyUp")]
    [InlineData("""{"action_type": "WAIT"}""", "Wait")]
    [InlineData("""{"action_type": "RIGHT_CLICK", "x": 1, "y": 2}""", "Click")]
    [InlineData("""{"action_type": "DOUBLE_CLICK"}""", "Click")]
    public void OsWorld_computer_13_names_are_accepted(string json, string kind) => Assert.Equal(Enum.Parse<ActionKind>(kind), One(json).Kind);

    [Fact]
    public void OsWorld_fields_mean_what_pyautogui_means()
    {
        var click = One("""{"action_type": "CLICK", "parameters": {"x": 5, "y": 6, "button": "right", "num_clicks": 2}}""");
        Assert.Equal((MouseButton.Right, 2, new ClientPoint(5, 6)), (click.Button, click.Clicks, click.Coordinate!.Value));
        // pyautogui: positive dy scrolls up, positive dx scrolls right.
        var scroll = One("""{"action_type": "SCROLL", "parameters": {"dx": -1, "dy": 2}}""");
        Assert.Equal((-1, -2), (scroll.ScrollX, scroll.ScrollY));
        Assert.Equal("ctrl+c", One("""{"action_type": "HOTKEY", "parameters": {"keys": ["ctrl", "c"]}}""").Chords.Single().ToString());
        Assert.Equal(2, One("""{"action_type": "PRESS", "parameters": {"key": ["a", "b"]}}""").Chords.Count);
        Assert.Null(One("""{"action_type": "DRAG_TO", "parameters": {"x": 5, "y": 6}}""").Start);
        Assert.Equal(TimeSpan.FromSeconds(1.5), One("""{"action_type": "WAIT", "parameters": {"seconds": 1.5}}""").Duration);
    }

    [Theory]
    [InlineData("""{"action": "left_clik"}""", "action", "unknown action 'left_clik'")]
    [InlineData("""{"coordinate": [1, 2]}""", "action", "is required")]
    [InlineData("""{"action": 5}""", "action", "must be a string")]
    [InlineData("""{"action": "mouse_move"}""", "coordinate", "is required")]
    [InlineData("""{"action": "mouse_move", "coordinate": [1]}""", "coordinate", "[x, y]")]
    [InlineData("""{"action": "mouse_move", "coordinate": "1,2"}""", "coordinate", "[x, y]")]
    [InlineData("""{"action": "mouse_move", "coordinate": [1, "2"]}""", "coordinate", "numbers")]
    [InlineData("""{"action": "mouse_move", "coordinate": [1e400, 2]}""", "coordinate", "numbers")]
    [InlineData("""{"action": "wait", "duration": 1e400}""", "duration", "seconds")]
    [InlineData("""{"action": "left_click", "scale": 1e400}""", "scale", "greater than 0")]
    [InlineData("""{"action": "key"}""", "text", "is required")]
    [InlineData("""{"action": "key", "text": "ctrl+bogus"}""", "text", "unknown key name 'bogus'")]
    [InlineData("""{"action": "type", "text": 7}""", "text", "must be a string")]
    [InlineData("""{"action": "type", "text": "a\u0007b"}""", "text", "U+0007")]
    [InlineData("""{"action": "left_click", "text": "hyperx"}""", "text", "unknown key name")]
    [InlineData("""{"action": "scroll", "scroll_amount": 1}""", "scroll_direction", "is required")]
    [InlineData("""{"action": "scroll", "scroll_direction": "sideways", "scroll_amount": 1}""", "scroll_direction", "up, down, left or right")]
    [InlineData("""{"action": "scroll", "scroll_direction": "up"}""", "scroll_amount", "is required")]
    [InlineData("""{"action": "scroll", "scroll_direction": "up", "scroll_amount": 1.5}""", "scroll_amount", "integer")]
    [InlineData("""{"action": "scroll", "scroll_direction": "up", "scroll_amount": 51}""", "scroll_amount", "from 0 to 50")]
    [InlineData("""{"action": "wait"}""", "duration", "is required")]
    [InlineData("""{"action": "wait", "duration": 11}""", "duration", "from 0 to 10")]
    [InlineData("""{"action": "wait", "duration": -1}""", "duration", "from 0 to 10")]
    [InlineData("""{"action": "hold_key", "duration": 1}""", "text", "is required")]
    [InlineData("""{"action": "zoom", "region": [5, 5, 1, 1]}""", "region", "x1 > x0")]
    [InlineData("""{"action": "left_click_drag", "start_coordinate": [1, 2]}""", "coordinate", "is required")]
    [InlineData("""{"action": "left_click", "max_width": 0}""", "max_width", "from 1 to")]
    [InlineData("""{"action": "left_click", "max_width": 100, "scale": 0.5}""", "scale", "either")]
    [InlineData("""{"action": "left_click", "scale": 0}""", "scale", "greater than 0")]
    [InlineData("""{"action": "left_click", "screenshot_after": "yes"}""", "screenshot_after", "must be true")]
    [InlineData("""{"action": "left_click", "settle_ms": "5"}""", "settle_ms", "integer")]
    [InlineData("""{"action_type": "CLICK", "parameters": {"x": 1}}""", "parameters.y", "is required")]
    [InlineData("""{"action_type": "CLICK", "parameters": {"x": 1, "y": 2, "button": "fourth"}}""", "parameters.button", "left, right or middle")]
    [InlineData("""{"action_type": "PRESS", "parameters": {"key": "bogus"}}""", "parameters.key", "unknown key name 'bogus'")]
    [InlineData("""{"action_type": "HOTKEY", "parameters": {"keys": ["ctrl", 3]}}""", "parameters.keys[1]", "must be a key name")]
    [InlineData("""{"action_type": "TELEPORT"}""", "action_type", "unknown action type 'TELEPORT'")]
    [InlineData("""{"action_type": "CLICK", "parameters": [1]}""", "parameters", "must be an object")]
    public void Bad_input_names_the_field(string json, string field, string says)
    {
        var e = SingleFails(json);
        Assert.Equal(field, e.Field);
        Assert.Contains(says, e.Message);
    }

    [Fact]
    public void Batch_errors_name_the_index_of_the_action()
    {
        var e = BatchFails("""{"actions": [{"action": "left_click"}, {"action": "mouse_move", "coordinate": [1, "x"]}]}""");
        Assert.Equal("actions[1].coordinate", e.Field);
        Assert.Equal("actions[0].action", BatchFails("""[{"action": "nope"}]""").Field);
        Assert.Equal("actions[1]", BatchFails("""[{"action": "left_click"}, 3]""").Field);
        Assert.Equal("actions", BatchFails("""{"actions": {}}""").Field);
        Assert.Equal("actions", BatchFails("""{"max_width": 10}""").Field);
        Assert.Equal("actions", BatchFails("""[{"action":"wait","duration":0},{"action":"wait","duration":0},{"action":"wait","duration":0},{"action":"wait","duration":0},{"action":"wait","duration":0},{"action":"wait","duration":0}]""").Field);
    }

    [Fact]
    public void A_batch_carries_its_coordinate_space_and_final_screenshot()
    {
        var b = Batch("""{"actions": [{"action": "left_click", "coordinate": [1, 2]}, {"action": "screenshot"}], "max_width": 1280, "screenshot_after": {"format": "jpeg"}, "settle_ms": 50}""");
        Assert.Equal(1280, b.Space.MaxWidth);
        Assert.Equal(50, b.SettleMs);
        Assert.Equal(ImageFormat.Jpeg, b.ScreenshotAfter!.Format);
        // Screenshots without their own size are taken in the request's coordinate space.
        Assert.Equal(1280, b.ScreenshotAfter.MaxWidth);
        Assert.Equal(1280, b.Actions[1].Screenshot!.MaxWidth);
        Assert.Equal("actions[0] (left_click)", b.Actions[0].Label);
        Assert.Equal(1, b.Actions[1].Index);

        var scaled = Batch("""{"actions": [], "scale": [0.5, 0.25]}""");
        Assert.Equal((0.5, 0.25), (scaled.Space.ScaleX!.Value, scaled.Space.ScaleY!.Value));
        Assert.True(Batch("""[]""").Space.IsScreen);
        Assert.Null(Batch("""{"actions": [], "screenshot_after": false}""").ScreenshotAfter);
        Assert.NotNull(Batch("""{"actions": [], "screenshot_after": true}""").ScreenshotAfter);
    }

    [Theory]
    [InlineData("mouse_move", "MouseMove")]
    [InlineData("left_click", "Click")]
    [InlineData("right_click", "Click")]
    [InlineData("middle_click", "Click")]
    [InlineData("double_click", "Click")]
    [InlineData("triple_click", "Click")]
    [InlineData("left_mouse_down", "MouseDown")]
    [InlineData("left_mouse_up", "MouseUp")]
    public void Pointer_actions_may_target_an_element_instead_of_a_coordinate(string name, string kind)
    {
        var a = One($$"""{"action": "{{name}}", "element": 42}""");
        Assert.Equal(kind, a.Kind.ToString());
        Assert.Equal(42, a.Element);
        Assert.Null(a.Coordinate);
        Assert.Null(One($$"""{"action": "{{name}}", "coordinate": [1, 2]}""").Element);
    }

    [Fact]
    public void Drag_and_scroll_take_an_element_as_their_target()
    {
        var drag = One("""{"action": "left_click_drag", "start_coordinate": [1, 2], "element": 7}""");
        Assert.Equal((new ClientPoint(1, 2), 7), (drag.Start!.Value, drag.Element!.Value));
        Assert.Null(drag.Coordinate);
        var scroll = One("""{"action": "scroll", "element": 3, "scroll_direction": "down", "scroll_amount": 2, "scale": 0.5}""");
        Assert.Equal((3, 0, 2), (scroll.Element!.Value, scroll.ScrollX, scroll.ScrollY));
        var batch = Batch("""{"actions": [{"action": "left_click", "element": 5}, {"action": "type", "text": "x"}], "max_width": 640}""");
        Assert.Equal(5, batch.Actions[0].Element);
        Assert.Equal(640, batch.Space.MaxWidth);
    }

    [Theory]
    [InlineData("""{"action": "left_click", "element": 4, "coordinate": [1, 2]}""", "element", "either element or coordinate")]
    [InlineData("""{"action": "left_click_drag", "element": 4, "coordinate": [1, 2]}""", "element", "either element or coordinate")]
    [InlineData("""{"action": "left_click", "element": "4"}""", "element", "must be an integer")]
    [InlineData("""{"action": "left_click", "element": 4.5}""", "element", "must be an integer")]
    [InlineData("""{"action": "left_click", "element": 0}""", "element", "from 1 to")]
    [InlineData("""{"action": "left_click", "element": -3}""", "element", "from 1 to")]
    [InlineData("""{"action": "left_click", "element": 1e12}""", "element", "from 1 to")]
    [InlineData("""{"action": "left_click", "element": [1, 2]}""", "element", "must be an integer")]
    [InlineData("""{"action": "mouse_move"}""", "coordinate", "or \"element\"")]
    [InlineData("""{"action": "left_click_drag", "start_coordinate": [1, 2]}""", "coordinate", "or \"element\"")]
    [InlineData("""{"action": "type", "text": "hi", "element": 4}""", "element", "act on an element, not type")]
    [InlineData("""{"action": "zoom", "region": [0, 0, 5, 5], "element": 4}""", "element", "not zoom")]
    [InlineData("""{"action_type": "CLICK", "parameters": {"element": 4}}""", "parameters.element", "only understood with \"action\"")]
    [InlineData("""{"action_type": "CLICK", "element": 4, "parameters": {"x": 1, "y": 2}}""", "element", "only understood with \"action\"")]
    public void Element_targets_are_validated_and_errors_name_the_field(string json, string field, string says)
    {
        var e = SingleFails(json);
        Assert.Equal(field, e.Field);
        Assert.Contains(says, e.Message);
    }

    [Fact]
    public void Element_errors_in_a_batch_name_the_index()
    {
        var e = BatchFails("""[{"action": "left_click", "element": 1}, {"action": "double_click", "element": 2, "coordinate": [0, 0]}]""");
        Assert.Equal("actions[1].element", e.Field);
    }

    [Fact]
    public void A_null_element_is_no_element()
    {
        var a = One("""{"action": "left_click", "element": null, "coordinate": [1, 2]}""");
        Assert.Null(a.Element);
        Assert.Equal(new ClientPoint(1, 2), a.Coordinate);
    }

    [Fact]
    public void Paste_text_takes_any_text_and_restores_by_default()
    {
        var a = One("""{"action": "paste_text", "text": "Grüße, 世界 — ñ\u0007"}""");
        Assert.Equal(ActionKind.PasteText, a.Kind);
        Assert.Equal("Grüße, 世界 — ñ\u0007", a.Text);
        Assert.True(a.Restore);
        Assert.False(One("""{"action": "paste_text", "text": "x", "restore": false}""").Restore);
        Assert.Equal("restore", SingleFails("""{"action": "paste_text", "text": "x", "restore": "no"}""").Field);
        Assert.Equal("text", SingleFails("""{"action": "paste_text"}""").Field);
    }

    [Fact]
    public void Type_has_a_method_keys_by_default()
    {
        Assert.Equal(TypeMethod.Keys, One("""{"action": "type", "text": "a"}""").Method);
        Assert.Equal(TypeMethod.Paste, One("""{"action": "type", "text": "a", "method": "paste"}""").Method);
        var auto = One("""{"action": "type", "text": "a", "method": "auto", "restore": false}""");
        Assert.Equal((TypeMethod.Auto, false), (auto.Method, auto.Restore));
        Assert.Equal("method", SingleFails("""{"action": "type", "text": "a", "method": "clipboard"}""").Field);
        Assert.Equal("method", SingleFails("""{"action": "type", "text": "a", "method": 1}""").Field);
        // Keys cannot type a control character; a paste can.
        Assert.Equal("text", SingleFails("""{"action": "type", "text": "\u0007"}""").Field);
        Assert.Equal("\u0007", One("""{"action": "type", "text": "\u0007", "method": "paste"}""").Text);
    }

    [Fact]
    public void Wait_takes_a_duration_or_a_wait_condition()
    {
        Assert.Null(One("""{"action": "wait", "duration": 1}""").Until);
        var w = One("""{"action": "wait", "until": "screen_settled", "quiet_ms": 150, "timeout_ms": 5000}""");
        Assert.Equal(ActionKind.Wait, w.Kind);
        Assert.Equal(("screen_settled", 150, 5000), (w.Until!.Until, w.Until.QuietMs, w.Until.TimeoutMs));
        var win = One("""{"action": "wait", "until": "window_exists", "window": {"title": "Calc"}}""");
        Assert.Equal("Calc", win.Until!.Window!.Title);
        Assert.Equal("until", SingleFails("""{"action": "wait", "until": "forever"}""").Field);
        Assert.Equal("duration", SingleFails("""{"action": "wait", "until": "screen_settled", "duration": 1}""").Field);
        Assert.StartsWith("quiet_ms", SingleFails("""{"action": "wait", "until": "screen_settled", "quiet_ms": "x"}""").Field);
        Assert.Equal("duration", SingleFails("""{"action": "wait"}""").Field);
    }
}
