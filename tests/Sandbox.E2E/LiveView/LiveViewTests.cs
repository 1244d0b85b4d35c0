using System.Net;
using System.Text.Json;
using Sandbox.E2E.Infrastructure;
using Sandbox.Testing;

namespace Sandbox.E2E.LiveView;

/// <summary>Xvfb showing the office scene and the published appliance with its default (view-only) live view.</summary>
public sealed class LiveViewFixture : SceneFixture;

/// <summary>The live view page in headless Chromium against the published binary.</summary>
[Collection("LiveView")]
public sealed class LiveViewTests(LiveViewFixture f) : IClassFixture<LiveViewFixture>
{
    // The cursor is composited into frames; comparisons with the scene leave its neighbourhood out.
    private static (int X, int Y, int W, int H) CursorArea(int x, int y) => (x - 8, y - 8, 48, 48);

    [Fact]
    public void Page_loads_and_the_canvas_shows_the_painted_scene_then_the_next_one()
    {
        f.X.Paint(Repo.Scene("office.png"));
        f.X.MovePointer(1850, 1000);
        using var run = BrowserRun.Start(f.BaseUrl, "load", "frame:office", "mark:loaded", "wait-frame", "frame:photo", "page");
        run.WaitForMark("loaded");
        f.X.Paint(Repo.Scene("photo.png"));
        var result = run.Result();

        var load = BrowserRun.Step(result, "load");
        Assert.Equal(200, load.GetProperty("status").GetInt32());
        Assert.Equal("Sandbox live view", load.GetProperty("title").GetString());
        Assert.Equal("live", load.GetProperty("connection").GetString());
        Assert.Equal([1920, 1080], load.GetProperty("frame").GetProperty("screen").EnumerateArray().Select(e => e.GetInt32()));
        BrowserRun.Step(result, "page");

        var office = Rgb.Load(Path.Combine(run.OutDir, "office.png"));
        var photo = Rgb.Load(Path.Combine(run.OutDir, "photo.png"));
        var officeScene = Rgb.Load(Repo.Scene("office.png"));
        var photoScene = Rgb.Load(Repo.Scene("photo.png"));
        Assert.Equal((1920, 1080), (office.Width, office.Height));

        var cursor = CursorArea(1850, 1000);
        var (meanOffice, _) = Compare(office, officeScene, cursor);
        var (meanPhoto, _) = Compare(photo, photoScene, cursor);
        var (meanWrong, _) = Compare(office, photoScene, cursor);
        // JPEG at quality 70 is close to the scene everywhere; the other scene is far from it.
        Assert.True(meanOffice < 4, $"office frame differs from the scene by {meanOffice:F2} on average");
        Assert.True(meanPhoto < 4, $"photo frame differs from the scene by {meanPhoto:F2} on average");
        Assert.True(meanWrong > 20, $"the office frame is too close to the photo scene ({meanWrong:F2})");

        // Where the pointer is, the frame shows the cursor, not the scene.
        var (_, cursorDiff) = Compare(office, officeScene, (0, 0, 0, 0), cursor);
        Assert.True(cursorDiff > 10, $"no cursor drawn near the pointer ({cursorDiff:F2})");
    }

    [Fact]
    public void Control_is_off_by_default_the_page_is_view_only_and_the_server_refuses_actions()
    {
        f.X.MovePointer(600, 600);
        var result = BrowserRun.Run(f.BaseUrl, "load", "control-off");
        var hello = BrowserRun.Step(result, "load").GetProperty("hello");
        Assert.False(hello.GetProperty("control").GetBoolean());
        var step = BrowserRun.Step(result, "control-off");
        Assert.False(step.GetProperty("toggleVisible").GetBoolean());
        Assert.True(step.GetProperty("viewOnlyVisible").GetBoolean());
        var direct = step.GetProperty("direct");
        Assert.Equal("error", direct.GetProperty("status").GetString());
        Assert.Equal(403, direct.GetProperty("code").GetInt32());
        Assert.Contains("SANDBOX_VIEW_CONTROL", direct.GetProperty("message").GetString());
        Assert.Equal((600, 600), f.X.PointerPosition());
    }

    [Fact]
    public void Recording_starts_and_stops_from_the_page_and_the_recorder_reports_to_the_side_list()
    {
        var result = BrowserRun.Run(f.BaseUrl, "load", "record", "activity:recording stopped");
        var record = BrowserRun.Step(result, "record");
        Assert.Equal("● recording", record.GetProperty("during").GetString());
        Assert.Equal("not recording", record.GetProperty("after").GetString());
        Assert.Contains("recording stopped", record.GetProperty("toast").GetString());
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(f.App.SharedDir, "recordings"), "actions-*.json"));
        var items = BrowserRun.Step(result, "activity:recording stopped").GetProperty("items").EnumerateArray().Select(e => e.GetString()!).ToList();
        Assert.Contains(items, i => i.Contains("recorder") && i.Contains("recording started"));
    }

    [Fact]
    public void Mjpeg_stream_shows_in_a_plain_img_and_the_screenshot_button_downloads_a_png()
    {
        var result = BrowserRun.Run(f.BaseUrl, "load", "mjpeg", "screenshot");
        Assert.Equal([1920, 1080], BrowserRun.Step(result, "mjpeg").GetProperty("size").EnumerateArray().Select(e => e.GetInt32()));
        var shot = BrowserRun.Step(result, "screenshot");
        Assert.EndsWith(".png", shot.GetProperty("suggested").GetString());
    }

    [Fact]
    public async Task Several_viewers_share_one_producer_and_status_lists_them()
    {
        using var a = BrowserRun.Start(f.BaseUrl, "load", "mark:a", "wait-frame");
        using var b = BrowserRun.Start(f.BaseUrl, "load", "mark:b", "wait-frame");
        a.WaitForMark("a");
        b.WaitForMark("b");
        var status = await f.App.GetJsonAsync("/view/status");
        Assert.True(status.GetProperty("viewers").GetArrayLength() >= 2, status.ToString());
        f.X.MovePointer(100 + Random.Shared.Next(500), 200);
        var ra = a.Result();
        var rb = b.Result();
        var fa = BrowserRun.Step(ra, "wait-frame").GetProperty("frame").GetProperty("seq").GetInt64();
        var fb = BrowserRun.Step(rb, "wait-frame").GetProperty("frame").GetProperty("seq").GetInt64();
        // One producer: both viewers got frames from the same sequence.
        Assert.Equal(fa, fb);
    }

    [Fact]
    public async Task Stream_endpoint_refuses_plain_http_and_status_reports_the_settings()
    {
        using var r = await f.App.Http.GetAsync("/view/stream");
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        var status = await f.App.GetJsonAsync("/view/status");
        Assert.Equal(10, status.GetProperty("fps").GetInt32());
        Assert.False(status.GetProperty("control").GetBoolean());
        Assert.Equal("libjpeg-turbo", status.GetProperty("encoder").GetString());
    }

    /// <summary>Mean absolute channel difference outside <paramref name="excluded"/>, and inside <paramref name="only"/> when given.</summary>
    internal static (double Outside, double Inside) Compare(Rgb a, Rgb b, (int X, int Y, int W, int H) excluded, (int X, int Y, int W, int H)? only = null)
    {
        long sumOut = 0, nOut = 0, sumIn = 0, nIn = 0;
        for (var y = 0; y < a.Height; y++)
        for (var x = 0; x < a.Width; x++)
        {
            var i = (y * a.Width + x) * 3;
            var d = Math.Abs(a.Data[i] - b.Data[i]) + Math.Abs(a.Data[i + 1] - b.Data[i + 1]) + Math.Abs(a.Data[i + 2] - b.Data[i + 2]);
            if (only is { } o)
            {
                if (x >= o.X && x < o.X + o.W && y >= o.Y && y < o.Y + o.H) { sumIn += d; nIn++; }
                continue;
            }
            if (x >= excluded.X && x < excluded.X + excluded.W && y >= excluded.Y && y < excluded.Y + excluded.H) continue;
            sumOut += d;
            nOut++;
        }
        return (nOut == 0 ? 0 : sumOut / 3.0 / nOut, nIn == 0 ? 0 : sumIn / 3.0 / nIn);
    }
}

/// <summary>The published appliance with SANDBOX_VIEW_CONTROL=true.</summary>
public sealed class ControlFixture() : SceneFixture(new Dictionary<string, string?> { ["SANDBOX_VIEW_CONTROL"] = "true" });

[Collection("LiveView")]
public sealed class LiveViewControlTests(ControlFixture f) : IClassFixture<ControlFixture>
{
    [Fact]
    public void With_control_enabled_clicks_and_keys_on_the_page_run_as_actions_and_are_listed()
    {
        f.X.MovePointer(100, 100);
        var result = BrowserRun.Run(f.BaseUrl, "load", "control-on:700,400", "keys:ab", "activity:type \"ab\"");
        Assert.True(BrowserRun.Step(result, "load").GetProperty("hello").GetProperty("control").GetBoolean());

        var control = BrowserRun.Step(result, "control-on:700,400");
        Assert.True(control.GetProperty("toggleVisible").GetBoolean());
        Assert.False(control.GetProperty("viewOnlyVisible").GetBoolean());
        var clicked = control.GetProperty("clicked");
        Assert.Equal("ok", clicked.GetProperty("status").GetString());
        Assert.Equal(200, clicked.GetProperty("code").GetInt32());
        // The page's own socket then moved the pointer to (5, 5) with a direct control message.
        Assert.Equal("ok", control.GetProperty("direct").GetProperty("status").GetString());
        Assert.Equal((5, 5), f.X.PointerPosition());

        var keys = BrowserRun.Step(result, "keys:ab").GetProperty("results");
        Assert.All(keys.EnumerateArray(), r => Assert.Equal("ok", r.GetProperty("status").GetString()));

        var items = BrowserRun.Step(result, "activity:type \"ab\"").GetProperty("items").EnumerateArray().Select(e => e.GetString()!).ToList();
        // The canvas is scaled to the page, so a click lands within a screen pixel or two of the point.
        Assert.Contains(items, i => i.Contains("viewer") && System.Text.RegularExpressions.Regex.IsMatch(i, @"left_click \[(69[89]|70[012]), (39[89]|40[012])\]"));
        Assert.Contains(items, i => i.Contains("viewer") && i.Contains("key Enter"));
    }

    [Fact]
    public async Task Actions_through_the_rest_api_appear_in_the_activity_feed()
    {
        using var body = new StringContent("{\"action\": \"mouse_move\", \"coordinate\": [321, 123]}", System.Text.Encoding.UTF8, "application/json");
        using var r = await f.App.Http.PostAsync("/computer/action", body);
        Assert.True(r.IsSuccessStatusCode, await r.Content.ReadAsStringAsync());
        var activity = await f.App.GetJsonAsync("/view/activity?limit=10");
        Assert.Contains(activity.EnumerateArray(), e => e.GetProperty("source").GetString() == "action"
            && e.GetProperty("text").GetString() == "mouse_move [321, 123]" && e.GetProperty("status").GetString() == "ok");
    }

    [Fact]
    public void Actions_the_page_may_not_send_are_refused()
    {
        var result = BrowserRun.Run(f.BaseUrl, "load", "control-refused");
        var step = BrowserRun.Step(result, "control-refused");
        Assert.Equal(400, step.GetProperty("code").GetInt32());
        Assert.Contains("not allowed", step.GetProperty("message").GetString());
    }
}

/// <summary>The published appliance with SANDBOX_TOKEN set.</summary>
public sealed class TokenFixture() : SceneFixture(new Dictionary<string, string?> { ["SANDBOX_TOKEN"] = Token })
{
    public const string Token = "s3cret-view";
}

[Collection("LiveView")]
public sealed class LiveViewTokenTests(TokenFixture f) : IClassFixture<TokenFixture>
{
    [Fact]
    public void With_a_token_the_page_streams_when_opened_with_it_and_says_what_it_needs_without()
    {
        var result = BrowserRun.Run(f.BaseUrl, $"load:?token={TokenFixture.Token}", "needs-token");
        var load = BrowserRun.Step(result, $"load:?token={TokenFixture.Token}");
        Assert.Equal("live", load.GetProperty("connection").GetString());
        Assert.Equal([1920, 1080], load.GetProperty("frame").GetProperty("screen").EnumerateArray().Select(e => e.GetInt32()));
        var without = BrowserRun.Step(result, "needs-token");
        Assert.Equal(200, without.GetProperty("status").GetInt32());
        Assert.Equal(0, without.GetProperty("drawn").GetInt32());
        Assert.Contains("SANDBOX_TOKEN", without.GetProperty("message").GetString());
    }

    [Fact]
    public async Task Without_the_token_the_stream_status_and_openapi_are_401_but_the_page_shell_is_served()
    {
        foreach (var path in new[] { "/view/stream", "/view/mjpeg", "/view/status", "/view/activity", "/openapi.json" })
        {
            using var r = await f.App.Http.GetAsync(path, HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode);
        }
        foreach (var path in new[] { "/", "/view", "/view/assets/app.js", "/view/assets/app.css" })
        {
            using var r = await f.App.Http.GetAsync(path);
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        }
        var status = await f.App.GetJsonAsync($"/view/status?token={TokenFixture.Token}");
        Assert.False(status.GetProperty("control").GetBoolean());
    }
}
