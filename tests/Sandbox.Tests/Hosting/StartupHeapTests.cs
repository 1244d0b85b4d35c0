using Sandbox.Hosting;

namespace Sandbox.Tests.Hosting;

public sealed class StartupHeapTests
{
    [Theory]
    [InlineData(null, true)]
    [InlineData("", true)]
    [InlineData("true", true)]
    [InlineData("1", true)]
    [InlineData("false", false)]
    [InlineData("0", false)]
    public void SANDBOX_STARTUP_HUGEPAGES_is_on_unless_false_or_0(string? value, bool wanted) =>
        Assert.Equal(wanted, StartupHeap.HugePagesWanted(value));
}
