using System.Net;
using System.Text.Json;
using Sandbox.E2E.Infrastructure;
using Sandbox.E2E.Reliability;
using Sandbox.Testing;
using Xunit.Abstractions;

namespace Sandbox.E2E.Capture;

/// <summary>Displays that are missing, lack MIT-SHM, or die under a running appliance.</summary>
public sealed class DisplayFaultTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Without_mit_shm_capture_falls_back_to_XGetImage_with_exact_pixels()
    {
        using var x = XvfbServer.Start(800, 600, sharedMemory: false);
        x.Paint(Repo.Scene("photo.png"));
        using var app = ApplianceProcess.Start(x);
        var json = await app.GetJsonAsync("/screenshot?cursor=false&annotate=false");
        var image = Rgb.Load(Path.Combine(app.SharedDir, json.GetProperty("screenshot_path").GetString()!));
        Assert.Equal((800, 600), (image.Width, image.Height));
        Assert.Empty(image.Differences(Rgb.Load(Repo.Scene("photo.png"))));
        var health = await app.GetJsonAsync("/health");
        Assert.False(health.GetProperty("display").GetProperty("shared_memory").GetBoolean());
    }

    [Fact]
    public async Task X_server_killed_gives_503_then_the_same_process_recovers_after_restart()
    {
        using var x = XvfbServer.Start(1024, 768);
        x.Paint(Repo.Scene("office.png"));
        using var app = ApplianceProcess.Start(x);
        var pid = app.Pid;
        await app.GetJsonAsync("/screenshot");

        x.Kill();
        using (var r = await app.Http.GetAsync("/screenshot"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, r.StatusCode);
            var body = JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal("Service Unavailable", body.GetProperty("reason").GetString());
            Assert.Contains("display", body.GetProperty("message").GetString());
        }
        var degraded = await app.GetJsonAsync("/health");
        Assert.Equal("degraded", degraded.GetProperty("status").GetString());

        x.Restart();
        var json = await app.GetJsonAsync("/screenshot?cursor=false&annotate=false");
        var image = Rgb.Load(Path.Combine(app.SharedDir, json.GetProperty("screenshot_path").GetString()!));
        var scene = Rgb.Load(Repo.Scene("office.png"));
        Assert.Empty(image.Differences(scene));
        Assert.Equal(pid, app.Pid);
        Assert.False(app.HasExited);
        Assert.Equal("ok", (await app.GetJsonAsync("/health")).GetProperty("status").GetString());
        // Actions reconnect too: the pointer lands where asked, as another client sees it.
        using (var r = await app.Http.PostAsync("/computer/action",
                   new StringContent("""{"action": "mouse_move", "coordinate": [321, 123]}""", System.Text.Encoding.UTF8, "application/json")))
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.StartsWith("x:321 y:123 ", Processes.Check("xdotool", ["getmouselocation"], x.Env.ToDictionary()));
        Figures.Report(output, "faults(X restart): X server killed under the running appliance: screenshots 503 while it was gone, " +
            $"then exact pixels, actions and health ok from the same process (pid unchanged: {pid == app.Pid}); restarts of the appliance: 0");
    }

    [Fact]
    public async Task Without_a_display_health_is_degraded_and_screenshots_are_503()
    {
        using var app = ApplianceProcess.Start(null);
        var health = await app.GetJsonAsync("/health");
        Assert.Equal("degraded", health.GetProperty("status").GetString());
        Assert.Equal("not_configured", health.GetProperty("display").GetProperty("state").GetString());
        using var r = await app.Http.GetAsync("/screenshot");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, r.StatusCode);
        Assert.Contains("DISPLAY", JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement.GetProperty("message").GetString());
    }
}
