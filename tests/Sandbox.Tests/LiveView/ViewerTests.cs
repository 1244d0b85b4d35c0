using Sandbox.Hosting;
using Sandbox.LiveView;
using Sandbox.Common;

namespace Sandbox.Tests.LiveView;

public sealed class ViewerTests
{
    private static StreamFrame Frame(long seq) => new(seq, new byte[10], 4, 4, 4, 4, 0, 0, 0, 0);

    [Fact]
    public async Task A_slow_viewer_keeps_only_the_latest_frame_and_counts_the_skipped_ones()
    {
        using var v = new Viewer(1, "websocket", _ => { });
        for (var i = 1; i <= 100; i++) v.Offer(Frame(i));
        Assert.True(await v.WaitAsync(CancellationToken.None));
        Assert.Equal(100, v.TakeFrame()!.Sequence);
        Assert.Null(v.TakeFrame());
        Assert.Equal(99, v.Skipped);
        Assert.Equal(1, v.Sent);
    }

    [Fact]
    public void Queued_events_are_bounded_oldest_dropped_first()
    {
        using var v = new Viewer(1, "websocket", _ => { });
        for (var i = 0; i < Viewer.MaxQueuedEvents + 10; i++) v.Post(i.ToString());
        var taken = new List<string>();
        while (v.TryTakeEvent(out var e)) taken.Add(e);
        Assert.Equal(Viewer.MaxQueuedEvents, taken.Count);
        Assert.Equal("10", taken[0]);
        Assert.Equal(10, v.DroppedEvents);
    }

    [Fact]
    public async Task Disposing_ends_the_wait_and_leaves_once()
    {
        var left = 0;
        var v = new Viewer(1, "mjpeg", _ => left++);
        var wait = v.WaitAsync(CancellationToken.None);
        v.Dispose();
        v.Dispose();
        Assert.False(await wait);
        Assert.Equal(1, left);
    }

    [Fact]
    public void Activity_feed_keeps_the_last_entries_in_order_and_tells_listeners()
    {
        var feed = new ActivityFeed();
        var heard = new List<ActivityEntry>();
        using (feed.Listen(heard.Add))
            for (var i = 0; i < ActivityFeed.Capacity + 5; i++) feed.Add("action", "left_click", $"click {i}", "ok");
        feed.Add("action", "key", "after");
        Assert.Equal(ActivityFeed.Capacity + 5, heard.Count);
        var recent = feed.Recent(3);
        Assert.Equal(["click 103", "click 104", "after"], recent.Select(e => e.Text));
        Assert.Equal(ActivityFeed.Capacity, feed.Recent().Length);
        Assert.True(recent[0].Id < recent[2].Id);
    }

    [Fact]
    public void Options_default_to_view_only_and_validate()
    {
        var o = SandboxOptions.FromEnvironment(new System.Collections.Hashtable()).LiveView;
        Assert.False(o.Control);
        Assert.Equal(10, o.Fps);
        var on = SandboxOptions.FromEnvironment(new System.Collections.Hashtable { ["SANDBOX_VIEW_CONTROL"] = "true" }).LiveView;
        Assert.True(on.Control);
        var e = Assert.Throws<OptionsException>(() =>
            SandboxOptions.FromEnvironment(new System.Collections.Hashtable { ["SANDBOX_VIEW_FPS"] = "0", ["SANDBOX_VIEW_QUALITY"] = "101" }));
        Assert.Equal(2, e.Errors.Count);
    }

    [Fact]
    public void The_live_view_may_type_but_not_paste_it_would_change_the_clipboard()
    {
        Assert.Contains("type", LiveViewHub.ControlActions);
        Assert.Contains("paste_text", Sandbox.Input.ActionParser.AnthropicActions);
        Assert.DoesNotContain("paste_text", LiveViewHub.ControlActions);
    }
}
