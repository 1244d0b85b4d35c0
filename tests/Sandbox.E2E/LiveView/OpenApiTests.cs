using System.Text.Json;
using Sandbox.Testing;

namespace Sandbox.E2E.LiveView;

/// <summary>/openapi.json of the published binary: valid OpenAPI, and every documented path answers.</summary>
[Collection("LiveView")]
public sealed class OpenApiTests(LiveViewFixture f) : IClassFixture<LiveViewFixture>
{
    [Fact]
    public async Task Document_validates_and_every_documented_get_path_is_served()
    {
        var (code, stdout, stderr) = Processes.Run("node", [Path.Combine(BrowserRun.ScriptDir, "openapi.mjs"), f.BaseUrl], timeoutMs: 60_000);
        Assert.True(code == 0, stderr);
        var result = JsonDocument.Parse(stdout.Trim().Split('\n')[^1]).RootElement;
        Assert.True(result.GetProperty("valid").GetBoolean(), result.TryGetProperty("error", out var e) ? e.GetString() : "");
        Assert.Equal("3.1.0", result.GetProperty("version").GetString());

        var paths = result.GetProperty("paths").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.EnumerateArray().Select(m => m.GetString()!).ToArray());
        foreach (var must in new[] { "/health", "/screenshot", "/cursor_position", "/screen_size", "/record", "/computer/action", "/computer/actions",
                     "/", "/view", "/view/stream", "/view/mjpeg", "/view/status", "/view/activity", "/openapi.json" })
            Assert.True(paths.ContainsKey(must), $"{must} is not documented");

        // Every documented GET without path parameters is routed (not 404); streams are only started.
        foreach (var (path, methods) in paths)
        {
            if (!methods.Contains("get") || path.Contains('{')) continue;
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            using var response = await f.App.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            Assert.True((int)response.StatusCode != 404, $"GET {path} → 404");
        }
    }
}
