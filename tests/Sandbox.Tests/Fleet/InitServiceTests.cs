using Sandbox.Web;
using Sandbox.Common;
using Sandbox.Fleet;

namespace Sandbox.Tests.Fleet;

public sealed class InitServiceTests
{
    private string? _token;

    private InitService Service() => new(new FleetOptions { InitMaxEnv = 3 }, t =>
    {
        if (_token is null) { _token = t; return TokenChange.Set; }
        return _token == t ? TokenChange.Same : TokenChange.Conflict;
    });

    [Fact]
    public void The_same_request_again_is_a_no_op_and_another_token_is_a_conflict()
    {
        var init = Service();
        Assert.True(init.Apply(new InitRequest("a")).TokenSet);
        Assert.True(init.Apply(new InitRequest("a")).TokenSet);
        var e = Assert.Throws<SandboxException>(() => init.Apply(new InitRequest("b")));
        Assert.Equal(ErrorKind.Conflict, e.Kind);
        Assert.Equal("a", _token);
    }

    [Theory]
    [InlineData("1BAD")]
    [InlineData("A=B")]
    [InlineData("SANDBOX_TOKEN")]
    [InlineData("KG_AUTH_TOKEN")]
    [InlineData("DISPLAY")]
    [InlineData("LD_PRELOAD")]
    public void Bad_or_reserved_names_are_refused_and_nothing_is_applied(string name)
    {
        var init = Service();
        var e = Assert.Throws<SandboxException>(() => init.Apply(new InitRequest("t", new() { [name] = "x" })));
        Assert.Equal(ErrorKind.BadRequest, e.Kind);
        Assert.Equal("env", e.Field);
        Assert.Null(_token);
    }

    [Fact]
    public void Too_many_variables_and_a_bad_timestamp_are_bad_requests()
    {
        var init = Service();
        Assert.Equal("env", Assert.Throws<SandboxException>(() => init.Apply(new InitRequest(null,
            new() { ["A"] = "1", ["B"] = "1", ["C"] = "1", ["D"] = "1" }))).Field);
        Assert.Equal("timestamp", Assert.Throws<SandboxException>(() => init.Apply(new InitRequest(null, null, "soon"))).Field);
        Assert.Equal("token", Assert.Throws<SandboxException>(() => init.Apply(new InitRequest("a\nb"))).Field);
    }

    [Fact]
    public void Readiness_is_starting_then_ready_then_degraded_then_draining()
    {
        string? why = "not yet";
        var r = new Readiness([new ReadinessCheck("thing", () => why)]);
        Assert.Equal("starting", r.Evaluate().Status);
        Assert.Equal(["thing: not yet"], r.Evaluate().Reasons);
        why = null;
        Assert.True(r.Evaluate().Ready);
        why = "lost";
        Assert.Equal("degraded", r.Evaluate().Status);
        why = null;
        r.Drain();
        var drained = r.Evaluate();
        Assert.False(drained.Ready);
        Assert.Equal("draining", drained.Status);
    }
}
