using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Sandbox.Testing;

namespace Sandbox.E2E.Desktop;

/// <summary>/windows under openbox with real applications, checked against wmctrl, xwininfo and xprop.</summary>
public sealed partial class WindowTests(OpenboxFixture f) : IClassFixture<OpenboxFixture>
{
    private static JsonElement Find(JsonElement list, ulong id) =>
        list.GetProperty("windows").EnumerateArray().FirstOrDefault(w => w.GetProperty("id").GetUInt64() == id);

    private (int X, int Y, int W, int H) XwinInfo(ulong id)
    {
        var o = Processes.Check("xwininfo", ["-id", id.ToString()], f.Env);
        int V(string label) => int.Parse(Regex.Match(o, label + @":\s+(-?\d+)").Groups[1].Value);
        return (V("Absolute upper-left X"), V("Absolute upper-left Y"), V("Width"), V("Height"));
    }

    private async Task<HttpResponseMessage> Post(ulong id, string action, string? json = null)
    {
        using var body = json is null ? null : new StringContent(json, Encoding.UTF8, "application/json");
        return await f.App.Http.PostAsync($"/windows/{id}/{action}", body);
    }

    [Fact]
    public async Task The_list_matches_wmctrl_xwininfo_and_xprop()
    {
        var (p1, w1) = f.Xterm("list one");
        var (p2, w2) = f.Xterm("list two");
        var tk = f.Launch(Repo.SystemPython, ["-c",
            "import tkinter as tk; r=tk.Tk(); r.title('tk wíndow ✓'); r.geometry('320x200+50+60'); r.mainloop()"]);
        // Tk's toplevel is a wrapper around the widget: the managed window is the Tk-class window wmctrl lists.
        ulong wtk = 0;
        DesktopFixtureBase.WaitUntil(() =>
        {
            var tkIds = Processes.Run("xdotool", ["search", "--class", "Tk"], f.Env).Stdout
                .Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(ulong.Parse).ToHashSet();
            var managed = Processes.Check("wmctrl", ["-l"], f.Env).Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(l => Convert.ToUInt64(l[2..l.IndexOf(' ')], 16));
            wtk = managed.FirstOrDefault(tkIds.Contains);
            return wtk != 0;
        }, "the Tk window to be managed");

        // wmctrl -lp: id desktop pid host title, one line per managed window.
        var wm = Processes.Check("wmctrl", ["-lp"], f.Env).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => Regex.Match(l, @"^0x([0-9a-f]+)\s+(-?\d+)\s+(\d+)\s+\S+\s?(.*)$"))
            .ToDictionary(m => Convert.ToUInt64(m.Groups[1].Value, 16), m => (Pid: int.Parse(m.Groups[3].Value), Title: m.Groups[4].Value));
        var list = await f.Windows();
        Assert.True(list.GetProperty("ewmh").GetBoolean());
        Assert.Equal("Openbox", list.GetProperty("window_manager").GetString());
        var ours = list.GetProperty("windows").EnumerateArray().Select(w => w.GetProperty("id").GetUInt64()).ToHashSet();
        Assert.Equal(wm.Keys.ToHashSet(), ours);
        foreach (var (id, pid) in new[] { (w1, p1.Id), (w2, p2.Id), (wtk, 0) })
        {
            var w = Find(list, id);
            // Tk sets no _NET_WM_PID: wmctrl says 0 and we give no pid.
            if (pid == 0) { Assert.Equal(0, wm[id].Pid); Assert.False(w.TryGetProperty("pid", out _)); }
            else {
            // wmctrl prints N/A for a title it cannot convert to the locale's charset.
            if (wm[id].Title != "N/A") Assert.Equal(wm[id].Title, w.GetProperty("title").GetString());
            Assert.Equal(wm[id].Pid, w.GetProperty("pid").GetInt32());
            }
            // A client may still move itself right after mapping (Tk applies its +x+y after the WM placed it):
            // compare when xwininfo reads the same geometry before and after our list.
            var (x, y, width, height) = XwinInfo(id);
            for (var attempt = 0; attempt < 50; attempt++)
            {
                var g0 = XwinInfo(id);
                w = Find(await f.Windows(), id);
                if (XwinInfo(id) == g0) { (x, y, width, height) = g0; break; }
                await Task.Delay(100);
            }
            var g = w.GetProperty("geometry");
            Assert.Equal((x, y, width, height), (g.GetProperty("x").GetInt32(), g.GetProperty("y").GetInt32(),
                g.GetProperty("width").GetInt32(), g.GetProperty("height").GetInt32()));
            // The frame adds openbox's _NET_FRAME_EXTENTS (left, right, top, bottom).
            var ext = Regex.Matches(f.Xprop(id, "_NET_FRAME_EXTENTS"), @"\d+").Select(m => int.Parse(m.Value)).ToArray();
            var fr = w.GetProperty("frame");
            Assert.Equal(x - ext[0], fr.GetProperty("x").GetInt32());
            Assert.Equal(y - ext[2], fr.GetProperty("y").GetInt32());
            Assert.Equal(width + ext[0] + ext[1], fr.GetProperty("width").GetInt32());
        }
        Assert.Equal("tk wíndow ✓", Find(list, wtk).GetProperty("title").GetString());
        Assert.Equal(new[] { p1.Id, p2.Id }.Order(), new[] { w1, w2 }.Select(id => Find(list, id).GetProperty("pid").GetInt32()).Order());
        Assert.Equal("XTerm", Find(list, w1).GetProperty("wm_class").GetString());
        Assert.Equal("Tk", Find(list, wtk).GetProperty("wm_class").GetString());
        // The active window is the one xprop names on the root.
        var active = Convert.ToUInt64(Regex.Match(f.RootProp("_NET_ACTIVE_WINDOW"), "0x([0-9a-f]+)").Groups[1].Value, 16);
        Assert.Equal(active, list.GetProperty("active_id").GetUInt64());
        var activeWindow = await f.App.GetJsonAsync("/windows/active");
        Assert.Equal(active, activeWindow.GetProperty("id").GetUInt64());
    }

    [Fact]
    public async Task Activate_move_resize_and_close_take_effect_as_xprop_sees()
    {
        var (_, a) = f.Xterm("act a");
        var (pb, b) = f.Xterm("act b");
        using (var r = await Post(a, "activate")) Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        DesktopFixtureBase.WaitUntil(() => f.RootProp("_NET_ACTIVE_WINDOW").Contains($"0x{a:x}"), "a to become active");
        using (var r = await Post(b, "activate")) Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        DesktopFixtureBase.WaitUntil(() => f.RootProp("_NET_ACTIVE_WINDOW").Contains($"0x{b:x}"), "b to become active");

        // move places the frame's top-left corner.
        using (var r = await Post(a, "move", "{\"x\":200,\"y\":150}")) Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        var ext = Regex.Matches(f.Xprop(a, "_NET_FRAME_EXTENTS"), @"\d+").Select(m => int.Parse(m.Value)).ToArray();
        DesktopFixtureBase.WaitUntil(() => XwinInfo(a) is var g && g.X == 200 + ext[0] && g.Y == 150 + ext[2], "a to move");
        var moved = Find(await f.Windows(), a).GetProperty("frame");
        Assert.Equal((200, 150), (moved.GetProperty("x").GetInt32(), moved.GetProperty("y").GetInt32()));

        var before = XwinInfo(a);
        using (var r = await Post(a, "resize", "{\"width\":600,\"height\":400}")) Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        // xterm sizes itself in character cells: near the request, and larger than before.
        DesktopFixtureBase.WaitUntil(() => XwinInfo(a) is var g && g.W > before.W && Math.Abs(g.W - 600) < 20 && Math.Abs(g.H - 400) < 30, "a to resize");

        using (var r = await Post(a, "maximize")) Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        DesktopFixtureBase.WaitUntil(() => f.Xprop(a, "_NET_WM_STATE").Contains("_NET_WM_STATE_MAXIMIZED_HORZ"), "a to maximize");
        using (var r = await Post(a, "restore")) Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        DesktopFixtureBase.WaitUntil(() => !f.Xprop(a, "_NET_WM_STATE").Contains("MAXIMIZED"), "a to restore");
        using (var r = await Post(a, "minimize")) Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        DesktopFixtureBase.WaitUntil(() => f.Xprop(a, "WM_STATE").Contains("Iconic"), "a to minimize");
        DesktopFixtureBase.WaitUntil(() => Find(f.Windows().Result, a).GetProperty("minimized").GetBoolean(), "the list to say minimized");
        using (var r = await Post(a, "restore")) Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        DesktopFixtureBase.WaitUntil(() => f.Xprop(a, "WM_STATE").Contains("Normal"), "a to come back");
        using (var r = await Post(a, "fullscreen")) Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        DesktopFixtureBase.WaitUntil(() => f.Xprop(a, "_NET_WM_STATE").Contains("FULLSCREEN"), "a to go fullscreen");

        using (var r = await Post(b, "close")) Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.True(pb.WaitForExit(30_000), "xterm b did not exit after close");
        DesktopFixtureBase.WaitUntil(() => !Processes.Check("wmctrl", ["-l"], f.Env).Contains($"{b:x8}"), "b to leave the list");
        Assert.Equal(HttpStatusCode.NotFound, (await Post(b, "activate")).StatusCode);
    }

    [Fact]
    public async Task Bad_requests_get_clear_answers()
    {
        var (_, a) = f.Xterm("bad input");
        Assert.Equal(HttpStatusCode.BadRequest, (await Post(0, "close")).StatusCode);
        using (var r = await f.App.Http.PostAsync("/windows/xyz/close", null)) Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Post(a, "explode")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await Post(a, "move", "{\"x\":1}")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await Post(a, "resize", "{\"width\":0,\"height\":5}")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await Post(a, "move", "not json")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Post(0x7ffffff, "activate")).StatusCode);
        // Hex ids, as xprop prints them, work too.
        using var ok = await f.App.Http.PostAsync($"/windows/0x{a:x}/activate", null);
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
    }
}

/// <summary>Without a window manager the list comes from the window tree (ICCCM fallback).</summary>
public sealed class NoWindowManagerTests(NoWindowManagerFixture f) : IClassFixture<NoWindowManagerFixture>
{
    [Fact]
    public async Task Mapped_top_level_windows_are_listed_and_can_be_moved()
    {
        var (p, w) = f.Xterm("bare xterm");
        var list = await f.Windows();
        Assert.False(list.GetProperty("ewmh").GetBoolean());
        var mine = list.GetProperty("windows").EnumerateArray().Single(x => x.GetProperty("id").GetUInt64() == w);
        Assert.Equal("bare xterm", mine.GetProperty("title").GetString());
        Assert.Equal(p.Id, mine.GetProperty("pid").GetInt32());
        // Our own hidden clipboard/desktop windows are never mapped, so never listed.
        Assert.All(list.GetProperty("windows").EnumerateArray(), x => Assert.True(x.GetProperty("visible").GetBoolean()));
        using var body = new StringContent("{\"x\":300,\"y\":200}", Encoding.UTF8, "application/json");
        using var r = await f.App.Http.PostAsync($"/windows/{w}/move", body);
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        DesktopFixtureBase.WaitUntil(() => Processes.Check("xwininfo", ["-id", w.ToString()], f.Env).Contains("Absolute upper-left X:  300"), "the move");
    }
}
