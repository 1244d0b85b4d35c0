using System.Collections;
using Sandbox.Hosting;
using Sandbox.Common;

namespace Sandbox.Tests.Hosting;

public sealed class OptionsTests
{
    [Fact]
    public void Defaults_match_the_old_suite()
    {
        var o = SandboxOptions.FromEnvironment(new Hashtable());
        Assert.Equal("0.0.0.0", o.Host);
        Assert.Equal(8765, o.Port);
        Assert.Equal("/tmp/sandbox-server", o.SharedDir);
    }

    [Fact]
    public void Every_invalid_value_is_reported_at_once()
    {
        var env = new Hashtable { ["PORT"] = "99999", ["SANDBOX_PNG_LEVEL"] = "x" };
        var e = Assert.Throws<OptionsException>(() => SandboxOptions.FromEnvironment(env));
        Assert.Equal(2, e.Errors.Count);
        Assert.Contains(e.Errors, m => m.StartsWith("PORT=99999"));
        Assert.Contains(e.Errors, m => m.StartsWith("SANDBOX_PNG_LEVEL=x"));
    }
}
