using System.Net;
using System.Text.Json;
using Sandbox.Testing;
using static Sandbox.E2E.Recording.Rec;

namespace Sandbox.E2E.Recording;

/// <summary>Input injected with xdotool into a real Xvfb comes out as the old suite's action list, field by field.</summary>
public sealed class RecordActionsTests(RecordingFixture f) : IClassFixture<RecordingFixture>
{
    private readonly XvfbServer _x = f.X;

    [Fact]
    public async Task Clicks_with_each_button_at_known_coordinates()
    {
        await Start(f.App);
        Xdo(_x, "mousemove", "--sync", "101", "202", "click", "1");
        Xdo(_x, "mousemove", "--sync", "303", "404", "click", "2");
        Xdo(_x, "mousemove", "--sync", "1279", "799", "click", "3");
        Xdo(_x, "mousemove", "--sync", "0", "0", "click", "8");
        var stop = await Stop(f.App);
        var actions = Actions(f.App, stop);

        string Click(int x, int y, string b, bool pressed) =>
            $$"""{"event":"click","x":{{x}},"y":{{y}},"button":"{{b}}","pressed":{{(pressed ? "true" : "false")}}}""";
        Assert.Equal([
            Click(101, 202, "Button.left", true), Click(101, 202, "Button.left", false),
            Click(303, 404, "Button.middle", true), Click(303, 404, "Button.middle", false),
            Click(1279, 799, "Button.right", true), Click(1279, 799, "Button.right", false),
            Click(0, 0, "Button.button8", true), Click(0, 0, "Button.button8", false),
        ], actions.EnumerateArray().Select(Shape));
        AssertTimestamps(actions);
        Assert.Equal(8, stop.GetProperty("num_actions").GetInt32());
        Assert.Equal("action_recording_stopped", stop.GetProperty("action_recording_status").GetString());
    }

    [Fact]
    public async Task Typing_ascii_and_unicode_gives_typed_sequences_split_by_enter()
    {
        await Start(f.App);
        Xdo(_x, "type", "Hello, World!");
        Xdo(_x, "key", "Return");
        Xdo(_x, "type", "héllo ✓ жук €");
        var actions = Actions(f.App, await Stop(f.App));
        Assert.Equal([
            """{"event":"typed_sequence","text":"Hello, World!"}""",
            """{"event":"hotkey","key":"Key.enter"}""",
            """{"event":"typed_sequence","text":"héllo ✓ жук €"}""",
        ], actions.EnumerateArray().Select(Shape));
        AssertTimestamps(actions);
    }

    [Fact]
    public async Task Hotkeys_single_keys_and_combinations()
    {
        await Start(f.App);
        Xdo(_x, "key", "ctrl+c");
        Xdo(_x, "key", "ctrl+shift+t");
        Xdo(_x, "key", "alt+F4");
        Xdo(_x, "key", "shift+Tab");
        Xdo(_x, "key", "Escape");
        Xdo(_x, "key", "Control_L");
        Xdo(_x, "key", "super");
        Xdo(_x, "key", "BackSpace");
        var actions = Actions(f.App, await Stop(f.App));
        Assert.Equal(["ctrl+c", "ctrl+shift+t", "alt+f4", "shift+tab", "Key.esc", "Key.ctrl_l", "Key.cmd_l", "Key.backspace"],
            actions.EnumerateArray().Select(a => a.GetProperty("event").GetString() + ":" + a.GetProperty("key").GetString())
                .Select(s => s.StartsWith("hotkey:") ? s["hotkey:".Length..] : s));
    }

    [Fact]
    public async Task Scroll_in_four_directions()
    {
        await Start(f.App);
        Xdo(_x, "mousemove", "--sync", "640", "400");
        Xdo(_x, "click", "4", "click", "4", "click", "4");
        Xdo(_x, "click", "5");
        Xdo(_x, "click", "6", "click", "6");
        Xdo(_x, "click", "7");
        var actions = Actions(f.App, await Stop(f.App));
        Assert.Equal([
            """{"event":"scroll","x":640,"y":400,"dx":0,"dy":3}""",
            """{"event":"scroll","x":640,"y":400,"dx":0,"dy":-1}""",
            """{"event":"scroll","x":640,"y":400,"dx":-2,"dy":0}""",
            """{"event":"scroll","x":640,"y":400,"dx":1,"dy":0}""",
        ], actions.EnumerateArray().Select(Shape));
    }

    [Fact]
    public async Task A_drag_is_a_click_pair_and_a_drag_record()
    {
        await Start(f.App);
        Xdo(_x, "mousemove", "--sync", "100", "100");
        Xdo(_x, "mousedown", "1");
        Xdo(_x, "mousemove", "--sync", "200", "150");
        Xdo(_x, "mousemove", "--sync", "300", "220");
        Xdo(_x, "mouseup", "1");
        var actions = Actions(f.App, await Stop(f.App));
        var shapes = actions.EnumerateArray().Select(Shape).ToList();
        Assert.Equal(3, shapes.Count);
        Assert.Equal("""{"event":"click","x":100,"y":100,"button":"Button.left","pressed":true}""", shapes[0]);
        Assert.Equal("""{"event":"click","x":300,"y":220,"button":"Button.left","pressed":false}""", shapes[1]);
        var drag = actions[2];
        Assert.Equal("drag", drag.GetProperty("event").GetString());
        Assert.Equal((100, 100, 300, 220), (drag.GetProperty("x").GetInt32(), drag.GetProperty("y").GetInt32(),
            drag.GetProperty("end_x").GetInt32(), drag.GetProperty("end_y").GetInt32()));
        Assert.True(drag.GetProperty("duration").GetDouble() >= 0);
    }

    [Fact]
    public async Task The_journal_holds_every_injected_event_numbered_without_gaps()
    {
        var start = await Start(f.App);
        Xdo(_x, "type", "abc");
        Xdo(_x, "click", "1", "click", "3");
        var stop = await Stop(f.App);
        var journal = Journal(f.App, stop);
        Assert.Equal("recording_started", journal[0].GetProperty("event").GetString());
        Assert.Equal("recording_stopped", journal[^1].GetProperty("event").GetString());
        var events = InputEvents(journal);
        Assert.Equal(Enumerable.Range(1, events.Count).Select(i => (long)i), events.Select(e => e.GetProperty("seq").GetInt64()));
        var keys = events.Where(e => e.GetProperty("event").GetString() == "key_press").Select(e => e.GetProperty("text").GetString());
        Assert.Equal(["a", "b", "c"], keys);
        Assert.Equal(3, events.Count(e => e.GetProperty("event").GetString() == "key_release"));
        Assert.Equal([1, 3], events.Where(e => e.GetProperty("event").GetString() == "button_press").Select(e => e.GetProperty("button").GetInt32()));
        Assert.Equal(2, events.Count(e => e.GetProperty("event").GetString() == "button_release"));
        Assert.Equal(events.Count, stop.GetProperty("num_events").GetInt64());
        Assert.Equal(start.GetProperty("events_file").GetString(), stop.GetProperty("events_file").GetString());
        foreach (var e in events)
        {
            Assert.True(e.GetProperty("time").GetDouble() >= 0);
            Assert.EndsWith("+00:00", e.GetProperty("timestamp").GetString());
        }
    }

    [Fact]
    public async Task Start_while_recording_and_stop_while_idle_answer_as_the_old_suite()
    {
        var idle = await Stop(f.App);
        Assert.Equal("no_action_recording", idle.GetProperty("action_recording_status").GetString());

        var first = await Start(f.App);
        Assert.Equal("action_recording_started", first.GetProperty("action_recording_status").GetString());
        Assert.Equal("screen_recording_disabled", first.GetProperty("screen_recording_status").GetString());
        var second = await Start(f.App);
        Assert.StartsWith("already_recording", second.GetProperty("action_recording_status").GetString());
        var status = await f.App.GetJsonAsync("/record?mode=status");
        Assert.Equal("action_recording_in_progress", status.GetProperty("action_recording_status").GetString());
        var stop = await Stop(f.App);
        Assert.Equal("action_recording_stopped", stop.GetProperty("action_recording_status").GetString());
        Assert.Equal(first.GetProperty("action_recording_file").GetString(), stop.GetProperty("action_recording_file").GetString());
        Assert.StartsWith("recordings/actions-", stop.GetProperty("action_recording_file").GetString());
        Assert.Equal(JsonValueKind.Null, stop.GetProperty("screen_recording_file").ValueKind);
        Assert.Equal("no_action_recording", (await Stop(f.App)).GetProperty("action_recording_status").GetString());
    }

    [Theory]
    [InlineData("/record?mode=start&fps=0")]
    [InlineData("/record?mode=start&fps=61")]
    [InlineData("/record?mode=start&fps=abc")]
    [InlineData("/record?mode=start&codec=vp9")]
    [InlineData("/record?mode=start&video=maybe")]
    [InlineData("/record?mode=pause")]
    public async Task Bad_parameters_are_400_with_a_reason(string path)
    {
        using var r = await f.App.Http.GetAsync(path);
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        var body = JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("Bad Request", body.GetProperty("reason").GetString());
        Assert.Equal("no_action_recording", (await f.App.GetJsonAsync("/record?mode=status")).GetProperty("action_recording_status").GetString());
    }

    [Fact]
    public async Task Health_reports_the_recording()
    {
        await Start(f.App);
        var during = await f.App.GetJsonAsync("/health");
        Assert.Equal("recording", during.GetProperty("recording").GetProperty("state").GetString());
        await Stop(f.App);
        var after = await f.App.GetJsonAsync("/health");
        Assert.Equal("idle", after.GetProperty("recording").GetProperty("state").GetString());
    }
}
