using Sandbox.Desktop;

namespace Sandbox.Tests.Desktop;

public sealed class WaitMatchTests
{
    private static WindowInfo Window(ulong id = 0x400001, string? title = "Untitled — Editor", string? cls = "Gedit", string? instance = "gedit", int? pid = 42) =>
        new(id, $"0x{id:x8}", title, cls, instance, pid, false, true, false, [], 0, new WindowRect(0, 0, 10, 10), new WindowRect(0, 0, 10, 10), 0);

    [Fact]
    public void Every_given_field_must_match()
    {
        Assert.True(WaitService.Matches(Window(), new WindowMatch(null, 42, null, null)));
        Assert.True(WaitService.Matches(Window(), new WindowMatch(null, 42, "gedit", "editor")));
        Assert.True(WaitService.Matches(Window(), new WindowMatch(null, null, "GEDIT", null)));
        Assert.False(WaitService.Matches(Window(), new WindowMatch(null, 43, "gedit", null)));
        Assert.False(WaitService.Matches(Window(title: null), new WindowMatch(null, null, null, "editor")));
        Assert.True(WaitService.Matches(Window(), new WindowMatch(0x400001, null, null, null)));
        Assert.False(WaitService.Matches(Window(), new WindowMatch(0x400002, null, null, null)));
    }

    [Fact]
    public void The_description_names_what_was_asked()
    {
        Assert.Equal("pid 7, title containing \"x\"", WaitService.Describe(new WindowMatch(null, 7, null, "x")));
    }

    [Fact]
    public void This_process_is_alive_and_an_unused_pid_is_not()
    {
        Assert.True(WaitService.Alive(Environment.ProcessId));
        Assert.False(WaitService.Alive(int.MaxValue - 1));
    }
}
