using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using Sandbox.Testing;

namespace Sandbox.E2E.Desktop;

/// <summary>POST /wait against real windows and an animating Tk canvas, under openbox.</summary>
public sealed class WaitTests(OpenboxFixture f) : IClassFixture<OpenboxFixture>
{
    private async Task<(HttpStatusCode Status, JsonElement Body, long ReceivedNs)> Wait(string json)
    {
        using var body = new StringContent(json, Encoding.UTF8, "application/json");
        using var r = await f.App.Http.PostAsync("/wait", body);
        var received = Stopwatch.GetTimestamp() * (1_000_000_000 / Stopwatch.Frequency);
        var text = await r.Content.ReadAsStringAsync();
        return (r.StatusCode, JsonDocument.Parse(text).RootElement.Clone(), received);
    }

    private sealed class Animation : IDisposable
    {
        private readonly Process _p;
        public readonly ConcurrentQueue<JsonElement> Lines = new();

        public Animation(OpenboxFixture f)
        {
            var psi = new ProcessStartInfo(Repo.SystemPython) { UseShellExecute = false, RedirectStandardInput = true, RedirectStandardOutput = true };
            psi.ArgumentList.Add(Path.Combine(Repo.Root, "tests", "Sandbox.E2E", "Desktop", "animate.py"));
            foreach (var (k, v) in f.Env)
                if (v is null) psi.Environment.Remove(k); else psi.Environment[k] = v;
            _p = Process.Start(psi)!;
            _p.StandardInput.AutoFlush = true;
            _p.OutputDataReceived += (_, e) => { if (e.Data is { Length: > 0 } l) Lines.Enqueue(JsonDocument.Parse(l).RootElement.Clone()); };
            _p.BeginOutputReadLine();
            DesktopFixtureBase.WaitUntil(() => Lines.Any(l => l.TryGetProperty("ready", out _)), "the animation window");
        }

        public void Send(string command) => _p.StandardInput.WriteLine(command);

        public void Dispose()
        {
            try { if (!_p.HasExited) _p.Kill(); _p.WaitForExit(5000); } catch (InvalidOperationException) { }
            _p.Dispose();
        }
    }

    [Fact]
    public async Task Screen_settled_answers_after_an_animation_stops_and_not_before()
    {
        using var anim = new Animation(f);
        // Let the window's first paint and the window manager's decorations settle first.
        Assert.Equal(HttpStatusCode.OK, (await Wait("{\"until\":\"screen_settled\",\"quiet_ms\":300,\"timeout_ms\":30000}")).Status);
        anim.Send("animate 60");
        var (status, body, received) = await Wait("{\"until\":\"screen_settled\",\"quiet_ms\":300,\"timeout_ms\":30000}");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("screen_settled", body.GetProperty("until").GetString());
        Assert.True(body.GetProperty("met").GetBoolean());
        DesktopFixtureBase.WaitUntil(() => anim.Lines.Any(l => l.TryGetProperty("stopped", out _)), "the animation's end");
        var stopped = anim.Lines.First(l => l.TryGetProperty("stopped", out _)).GetProperty("stopped").GetInt64();
        // Both clocks are CLOCK_MONOTONIC: the answer came after the last frame, never during the animation.
        Assert.True(stopped <= received, $"answered {(stopped - received) / 1e6:F0} ms before the animation stopped");
        Assert.True(body.GetProperty("last_change_ms").GetInt64() > 0, "the animation's damage was not seen");
    }

    [Fact]
    public async Task Screen_settled_times_out_while_the_screen_keeps_changing()
    {
        using var anim = new Animation(f);
        anim.Send("forever");
        var (status, body, _) = await Wait("{\"until\":\"screen_settled\",\"quiet_ms\":500,\"timeout_ms\":2000}");
        Assert.Equal(HttpStatusCode.RequestTimeout, status);
        Assert.Contains("kept changing", body.GetProperty("message").GetString());
    }

    [Fact]
    public async Task Pixel_changed_sees_a_region_repainted()
    {
        using var anim = new Animation(f);
        var windows = (await f.Windows()).GetProperty("windows").EnumerateArray();
        var g = windows.First(w => w.GetProperty("title").GetString() == "animation probe").GetProperty("geometry");
        var region = $"{{\"x\":{g.GetProperty("x").GetInt32() + 10},\"y\":{g.GetProperty("y").GetInt32() + 10},\"width\":50,\"height\":50}}";
        var wait = Wait($"{{\"until\":\"pixel_changed\",\"region\":{region},\"timeout_ms\":30000}}");
        await Task.Delay(300);
        anim.Send("color");
        var (status, body, _) = await wait;
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("pixel_changed", body.GetProperty("until").GetString());
        // Nothing changes there afterwards: a short wait times out.
        var (quiet, _, _) = await Wait($"{{\"until\":\"pixel_changed\",\"region\":{region},\"timeout_ms\":700}}");
        Assert.Equal(HttpStatusCode.RequestTimeout, quiet);
    }

    [Fact]
    public async Task Window_exists_gone_and_process_exit()
    {
        var wait = Wait("{\"until\":\"window_exists\",\"window\":{\"title\":\"waited for\"},\"timeout_ms\":60000}");
        var (p, id) = f.Xterm("waited for");
        var (status, body, _) = await wait;
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(id, body.GetProperty("window").GetProperty("id").GetUInt64());
        Assert.Equal(p.Id, body.GetProperty("window").GetProperty("pid").GetInt32());

        var byPid = await Wait($"{{\"until\":\"window_exists\",\"window\":{{\"pid\":{p.Id},\"class\":\"xterm\"}},\"timeout_ms\":10000}}");
        Assert.Equal(id, byPid.Body.GetProperty("window").GetProperty("id").GetUInt64());

        var gone = Wait($"{{\"until\":\"window_gone\",\"window\":{{\"id\":{id}}},\"timeout_ms\":60000}}");
        var exit = Wait($"{{\"until\":\"process_exit\",\"pid\":{p.Id},\"timeout_ms\":60000}}");
        p.Kill();
        Assert.Equal(HttpStatusCode.OK, (await gone).Status);
        Assert.Equal(HttpStatusCode.OK, (await exit).Status);

        var (never, msg, _) = await Wait("{\"until\":\"window_exists\",\"window\":{\"title\":\"no such window\"},\"timeout_ms\":500}");
        Assert.Equal(HttpStatusCode.RequestTimeout, never);
        Assert.Contains("no such window", msg.GetProperty("message").GetString());
    }

    [Fact]
    public async Task Bad_waits_get_400()
    {
        foreach (var json in new[] { "{}", "{\"until\":\"sunrise\"}", "{\"until\":\"window_exists\"}", "{\"until\":\"window_exists\",\"window\":{}}",
                     "{\"until\":\"process_exit\"}", "{\"until\":\"pixel_changed\"}", "{\"until\":\"screen_settled\",\"timeout_ms\":-1}",
                     "{\"until\":\"pixel_changed\",\"region\":{\"x\":0,\"y\":0,\"width\":99999,\"height\":5}}" })
            Assert.Equal(HttpStatusCode.BadRequest, (await Wait(json)).Status);
    }
}
