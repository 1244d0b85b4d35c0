using Sandbox.E2E.Infrastructure;

namespace Sandbox.E2E.ProcessesApi;

/// <summary>Commands never outlive the appliance: not after SIGKILL (pdeathsig), not after SIGTERM (groups killed).</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class ProcessLifetimeTests
{
    [Fact]
    public async Task A_running_command_dies_when_the_appliance_is_SIGKILLed()
    {
        var pidFile = Path.Combine(Path.GetTempPath(), $"proc-life-{Guid.NewGuid():N}");
        try
        {
            using var app = ApplianceProcess.Start(null);
            var run = Run.PostAsync(app.Http, "/process/run", new { command = $"echo $$ > {pidFile}; exec sleep 300", timeout_s = 600 });
            var pid = int.Parse(await Run.WaitFileAsync(pidFile));
            Assert.False(Run.IsGone(pid));
            app.Kill();
            await Run.WaitGoneAsync(pid);
            await Assert.ThrowsAnyAsync<Exception>(() => run);
        }
        finally { File.Delete(pidFile); }
    }

    [Fact]
    public async Task Background_processes_and_leftovers_of_runs_are_killed_when_the_appliance_stops()
    {
        using var app = ApplianceProcess.Start(null);
        var leftover = await Run.OkAsync(app.Http, new { command = "sleep 300 & echo $!" });
        var leftoverPid = int.Parse(leftover.GetProperty("stdout").GetString()!.Trim());
        var (status, bg) = await Run.PostAsync(app.Http, "/process/start", new { argv = new[] { "bash", "-i" }, pty = new { cols = 80, rows = 24 } });
        Assert.Equal(201, status);
        var bgPid = bg.GetProperty("pid").GetInt32();
        Assert.False(Run.IsGone(leftoverPid));
        Assert.False(Run.IsGone(bgPid));
        Assert.Equal(0, app.Stop());
        await Run.WaitGoneAsync(leftoverPid);
        await Run.WaitGoneAsync(bgPid);
    }
}
