using System.Collections;
using Microsoft.AspNetCore.Http;
using Sandbox.Gateway;
using Sandbox.Hosting;
using Sandbox.Web;

namespace Sandbox.Tests.Web;

public sealed class AccessTokenTests
{
    [Theory]
    [InlineData("token abc", null, true)]
    [InlineData("Bearer abc", null, true)]
    [InlineData("TOKEN  abc ", null, true)]
    [InlineData(null, "abc", true)]
    [InlineData("token abd", null, false)]
    [InlineData("token ab", null, false)]
    [InlineData("token abcd", null, false)]
    [InlineData("Basic abc", null, false)]
    [InlineData("abc", null, false)]
    [InlineData(null, "ABC", false)]
    [InlineData(null, null, false)]
    [InlineData("token abc", "wrong", false)]  // the query wins, as Kernel Gateway reads it first
    public void Accepts_the_token_in_a_header_or_the_query_and_nothing_else(string? header, string? query, bool expected)
    {
        var http = new DefaultHttpContext();
        if (header is not null) http.Request.Headers.Authorization = header;
        if (query is not null) http.Request.QueryString = new QueryString("?token=" + query);
        Assert.Equal(expected, new AccessToken("abc").Authorizes(http.Request));
    }

    [Fact]
    public void No_token_configured_means_no_check()
    {
        Assert.Null(AccessToken.From(null));
        Assert.Null(AccessToken.From(""));
    }

    [Fact]
    public void The_gateway_token_defaults_to_SANDBOX_TOKEN_and_KG_AUTH_TOKEN_wins()
    {
        Assert.Equal("s", GatewayOptions.FromEnvironment(new Hashtable { ["SANDBOX_TOKEN"] = "s" }).AuthToken);
        Assert.Equal("k", GatewayOptions.FromEnvironment(new Hashtable { ["SANDBOX_TOKEN"] = "s", ["KG_AUTH_TOKEN"] = "k" }).AuthToken);
        Assert.Null(GatewayOptions.FromEnvironment(new Hashtable()).AuthToken);
        Assert.Equal("s", SandboxOptions.FromEnvironment(new Hashtable { ["SANDBOX_TOKEN"] = "s" }).Token);
    }
}
