using Sandbox.Hosting;

namespace Sandbox.Tests.Hosting;

public sealed class StartupGateTests
{
    [Fact]
    public async Task Deferred_work_runs_after_the_first_answer()
    {
        var gate = new StartupGate();
        var ran = new TaskCompletionSource();
        gate.Defer(() => ran.TrySetResult());
        Assert.False(gate.Opened.IsCompleted);   // not armed, nothing answered: closed
        gate.Answered();
        await ran.Task.WaitAsync(TimeSpan.FromSeconds(30));
        gate.Answered();                          // later answers change nothing
        Assert.True(gate.Opened.IsCompletedSuccessfully);
    }

    [Fact]
    public async Task Without_a_request_the_gate_opens_after_its_delay()
    {
        var gate = new StartupGate();
        gate.Arm();
        await gate.Opened.WaitAsync(TimeSpan.FromSeconds(30));
        var ran = new TaskCompletionSource();
        gate.Defer(() => ran.TrySetResult());     // deferred after opening: runs at once
        await ran.Task.WaitAsync(TimeSpan.FromSeconds(30));
    }
}
