using Sandbox.Common;

namespace Sandbox.Tests.Common;

public sealed class ChildProcessTests
{
    /// <summary>
    /// A run reaps its own child (TryReap) while the reaper thread is told by the child's pidfd and reaps too:
    /// whichever wins, the exit status is the child's, never the "reaped elsewhere" 255 of the loser.
    /// </summary>
    [Fact]
    public async Task Reaping_from_the_run_and_from_the_reaper_at_once_keeps_the_exit_status()
    {
        var env = new Dictionary<string, string> { ["PATH"] = "/usr/bin:/bin" };
        for (var round = 0; round < 200; round++)
        {
            var child = ChildProcess.StartHere(new ChildStart("/bin/sh", ["/bin/sh", "-c", "exit 7"], env, "/", null));
            while (!child.TryReap()) Thread.SpinWait(50);
            var status = await child.Exited.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal("exit code 7", ChildProcess.Describe(status));
        }
    }
}
