using Sandbox.E2E.Infrastructure;
using Sandbox.Testing;

namespace Sandbox.E2E.Hosting;

/// <summary>
/// The idle trim (<c>SANDBOX_IDLE_TRIM_MS</c>, docs/performance.md "Third round: memory"): after work, an idle
/// appliance drops the clean file pages the work mapped back, and the next screenshot is still the screen's.
/// Asserted on the kernel's count of the process's resident file pages (<c>RssFile</c> in /proc/PID/status).
/// </summary>
public sealed class IdleTrimTests
{
    [Fact]
    public async Task An_idle_appliance_drops_the_pages_its_work_mapped_back_and_then_still_answers_the_screen()
    {
        using var x = XvfbServer.Start();
        x.Paint(Repo.Scene("office.png"));
        var scene = Rgb.Load(Repo.Scene("office.png"));
        using var app = ApplianceProcess.Start(x, new Dictionary<string, string?> { ["SANDBOX_IDLE_TRIM_MS"] = "300" });

        // Work: screenshots of both kinds map the encoder's code back in.
        for (var i = 0; i < 3; i++)
        {
            await app.Http.GetByteArrayAsync("/screenshot?response=image&cursor=false&annotate=false");
            await app.Http.GetByteArrayAsync("/screenshot?response=image&format=jpeg&cursor=false&annotate=false");
        }
        var busy = RssFileKb(app.Pid);

        // Idle: within a generous deadline the resident file pages fall well below what the work left.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        long idle;
        while ((idle = RssFileKb(app.Pid)) > busy - 1024 && DateTime.UtcNow < deadline) await Task.Delay(100);
        Assert.True(idle <= busy - 1024, $"RssFile {busy} kB after the screenshots, still {idle} kB after a minute idle");

        // The pages come back as they are used: the next screenshot is still the screen, pixel for pixel.
        var image = Rgb.Decode(await app.Http.GetByteArrayAsync("/screenshot?response=image&cursor=false&annotate=false"));
        Assert.Empty(image.Differences(scene));
        Assert.False(app.HasExited);
    }

    private static long RssFileKb(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            if (line.StartsWith("RssFile:"))
                return long.Parse(line["RssFile:".Length..].Trim().Split(' ')[0]);
        throw new InvalidOperationException("no RssFile in /proc/PID/status");
    }
}
