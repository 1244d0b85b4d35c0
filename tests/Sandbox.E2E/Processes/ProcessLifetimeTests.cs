using Sandbox.E2E.Infrastructure;

namespace Sandbox.E2E.ProcessesApi;

/// <summary>Commands never outlive the appliance: not after SIGKILL (the guardian kills their groups), not after SIGTERM (groups killed).</summary>
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

    [Fact]
    public async Task Leftovers_of_runs_die_when_the_appliance_is_SIGKILLed_even_after_the_guardian_was_killed()
    {
        int leftoverPid = -1;
        try
        {
            using var app = ApplianceProcess.Start(null);
            var leftover = await Run.OkAsync(app.Http, new { command = "sleep 300 & echo $!" });
            leftoverPid = int.Parse(leftover.GetProperty("stdout").GetString()!.Trim());
            var guardian = await WaitGuardianAsync(app.Pid, except: -1);
            KillPid(guardian);
            // A new guardian is started and told the groups still alive, the leftover's among them.
            await WaitGuardianAsync(app.Pid, except: guardian);
            Assert.False(Run.IsGone(leftoverPid));
            app.Kill();
            await Run.WaitGoneAsync(leftoverPid);
        }
        finally
        {
            if (leftoverPid > 0 && !Run.IsGone(leftoverPid)) KillPid(leftoverPid);
        }
    }

    /// <summary>The appliance's guardian: its child running the guardian script (a shell with `trap '' HUP`).</summary>
    private static async Task<int> WaitGuardianAsync(int appPid, int except)
    {
        var sw = System.Diagnostics.Stopwatch.StartNew();
        while (sw.ElapsedMilliseconds < 20_000)
        {
            foreach (var task in Directory.GetDirectories($"/proc/{appPid}/task"))
            {
                string children;
                try { children = File.ReadAllText(Path.Combine(task, "children")); }
                catch (IOException) { continue; }
                foreach (var part in children.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                {
                    var pid = int.Parse(part);
                    string cmdline;
                    try { cmdline = File.ReadAllText($"/proc/{pid}/cmdline"); }
                    catch (IOException) { continue; }
                    if (pid != except && !Run.IsGone(pid) && cmdline.Contains("trap '' HUP")) return pid;
                }
            }
            await Task.Delay(50);
        }
        Assert.Fail("no process guardian among the appliance's children");
        return -1;
    }

    private static void KillPid(int pid)
    {
        try { System.Diagnostics.Process.GetProcessById(pid).Kill(); }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException) { } // already gone
    }
}
