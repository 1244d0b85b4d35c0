using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Sandbox.Api;
using Sandbox.Display;
using Sandbox.Web;

namespace Sandbox.Tests.Api;

/// <summary>The cold-start path for GET /health: the report itself, and everything else left to the pipeline.</summary>
public sealed class HealthAheadOfRoutingTests : IDisposable
{
    private readonly XDisplayConnection _display = new(":9999", "test", NullLogger.Instance);
    private readonly ServiceProvider _services = new ServiceCollection().AddLogging().BuildServiceProvider();

    public void Dispose()
    {
        _display.Dispose();
        _services.Dispose();
    }

    private async Task<(bool Passed, int Status, string Body)> Send(string method, string path, string host = "127.0.0.1")
    {
        var passed = false;
        var app = new ApplicationBuilder(_services);
        app.UseHealthAheadOfRouting(new HealthSources(_display), new GuardPolicy([], []));
        app.Run(_ => { passed = true; return Task.CompletedTask; });
        var http = new DefaultHttpContext { RequestServices = _services };
        http.Request.Method = method;
        http.Request.Path = path;
        http.Request.Host = new HostString(host);
        var body = new MemoryStream();
        http.Response.Body = body;
        await app.Build()(http);
        return (passed, http.Response.StatusCode, System.Text.Encoding.UTF8.GetString(body.ToArray()));
    }

    [Fact]
    public async Task Answers_GET_health_with_the_report()
    {
        var (passed, status, body) = await Send("GET", "/health");
        Assert.False(passed);
        Assert.Equal(200, status);
        var report = JsonDocument.Parse(body).RootElement;
        Assert.Equal("degraded", report.GetProperty("status").GetString()); // no X server on :9999
        Assert.Equal(":9999", report.GetProperty("display").GetProperty("name").GetString());
    }

    [Theory]
    [InlineData("GET", "/health", "evil.example")] // refused by the guard: the pipeline answers (and logs) it
    [InlineData("POST", "/health", "127.0.0.1")]
    [InlineData("HEAD", "/health", "127.0.0.1")]
    [InlineData("GET", "/health/", "127.0.0.1")]
    [InlineData("GET", "/screenshot", "127.0.0.1")]
    public async Task Leaves_everything_else_to_the_pipeline(string method, string path, string host)
    {
        var (passed, _, body) = await Send(method, path, host);
        Assert.True(passed);
        Assert.Equal("", body);
    }
}
