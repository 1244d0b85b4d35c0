using System.Diagnostics;
using System.Text;
using Sandbox.E2E.Infrastructure;
using Sandbox.Testing;

namespace Sandbox.E2E.Input;

/// <summary>What the appliance leaves behind when it stops: nothing held, the keymap as it found it.</summary>
public sealed class InputShutdownTests : IDisposable
{
    private readonly XvfbServer _x = XvfbServer.Start();

    public void Dispose() => _x.Dispose();

    private string Keymap() => Processes.Check("xmodmap", ["-pke"], new Dictionary<string, string?>(_x.Env));

    private static Task<HttpResponseMessage> Post(ApplianceProcess app, string json) =>
        app.Http.PostAsync("/computer/action", new StringContent(json, Encoding.UTF8, "application/json"));

    [Fact]
    public async Task Stopping_restores_remapped_keycodes()
    {
        var before = Keymap();
        // A restore delay far longer than the test: only the shutdown can undo the remapping.
        using var app = ApplianceProcess.Start(_x, new Dictionary<string, string?> { ["SANDBOX_ACTION_KEYMAP_RESTORE_MS"] = "600000" });
        using var r = await Post(app, """{"action": "type", "text": "世ñ"}""");
        Assert.True(r.IsSuccessStatusCode, await r.Content.ReadAsStringAsync());
        Assert.Contains("U4E16", Keymap());
        Assert.Equal(0, app.Stop());
        Assert.Equal(before, Keymap());
    }

    [Fact]
    public async Task Stopping_during_a_hold_releases_the_key()
    {
        using var app = ApplianceProcess.Start(_x);
        var hold = Post(app, """{"action": "hold_key", "text": "shift+ctrl", "duration": 60}""");
        var sw = Stopwatch.StartNew();
        while (XState.Read(_x).Keys.Length < 2 && sw.ElapsedMilliseconds < 20_000) Thread.Sleep(50);
        Assert.Equal(2, XState.Read(_x).Keys.Length);
        Assert.Equal(0, app.Stop());
        Assert.Empty(XState.Read(_x).Keys);
        try { (await hold).Dispose(); } catch (HttpRequestException) { } catch (TaskCanceledException) { }
    }

    [Fact]
    public async Task Without_a_display_actions_are_503_and_work_again_once_it_is_back()
    {
        using var app = ApplianceProcess.Start(_x);
        using (var r = await Post(app, """{"action": "mouse_move", "coordinate": [10, 20]}"""))
            Assert.True(r.IsSuccessStatusCode, await r.Content.ReadAsStringAsync());
        _x.Kill();
        using (var r = await Post(app, """{"action": "mouse_move", "coordinate": [30, 40]}"""))
            Assert.Equal(503, (int)r.StatusCode);
        _x.Restart();
        using (var r = await Post(app, """{"action": "type", "text": "ü世"}"""))
            Assert.True(r.IsSuccessStatusCode, await r.Content.ReadAsStringAsync());
        using (var r = await Post(app, """{"action": "mouse_move", "coordinate": [50, 60]}"""))
            Assert.True(r.IsSuccessStatusCode, await r.Content.ReadAsStringAsync());
        Assert.Equal((50, 60), _x.PointerPosition());
        Assert.False(app.HasExited);
    }
}
