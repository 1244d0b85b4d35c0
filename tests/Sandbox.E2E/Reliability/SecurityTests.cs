using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Sandbox.E2E.Infrastructure;
using Sandbox.Testing;
using Xunit.Abstractions;

namespace Sandbox.E2E.Reliability;

/// <summary>SANDBOX_TOKEN on both ports, and the modes of what holds screen pixels or kernel keys.</summary>
[Collection("Reliability")]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class SecurityTests(ITestOutputHelper output)
{
    private const string Token = "s3cret-Tok3n-for-e2e-0123456789";

    private static readonly (string Method, string Path)[] Protected =
    [
        ("GET", "/screenshot"), ("GET", "/screenshot?response=image"), ("GET", "/cursor_position"), ("GET", "/screen_size"),
        ("GET", "/record?mode=status"), ("POST", "/computer/action"), ("POST", "/computer/actions"), ("GET", "/nope"),
        ("HEAD", "/screenshot"), ("POST", "/health"),
    ];

    [Fact]
    public async Task With_SANDBOX_TOKEN_every_endpoint_but_health_needs_it_and_the_token_is_never_logged()
    {
        using var x = XvfbServer.Start(640, 480);
        using var app = ApplianceProcess.Start(x, new Dictionary<string, string?> { ["SANDBOX_TOKEN"] = Token });
        int refused = 0, served = 0;

        // Health stays open: orchestrators probe it without credentials.
        Assert.Equal(HttpStatusCode.OK, (await Send(app, "GET", "/health")).Status);
        Assert.Equal(HttpStatusCode.OK, (await Send(app, "GET", "/health", header: ("token", "wrong"))).Status);

        (string Scheme, string Value)?[] wrongHeaders =
            [null, ("token", "wrong"), ("Bearer", "wrong"), ("token", Token[..^1]), ("token", Token + "x"), ("Basic", Token),
             ("token", ""), ("Bearer", Token.ToUpperInvariant())];
        foreach (var (method, path) in Protected)
        {
            foreach (var h in wrongHeaders)
            {
                var r = await Send(app, method, path, header: h);
                AssertUnauthorized(r, method, path);
                refused++;
            }
            foreach (var q in new[] { "token=wrong", "token=", "token=" + Uri.EscapeDataString(Token[1..]), "tok=" + Token })
            {
                AssertUnauthorized(await Send(app, method, Append(path, q)), method, path);
                refused++;
            }
        }

        foreach (var path in new[] { "/screenshot", "/screenshot?response=image", "/cursor_position", "/screen_size", "/record?mode=status" })
        {
            foreach (var h in new (string, string)?[] { ("token", Token), ("Bearer", Token), ("TOKEN", Token) })
            {
                var r = await Send(app, "GET", path, header: h);
                Assert.True(r.Status == HttpStatusCode.OK, $"{path} with {h}: {(int)r.Status} {r.Body}");
                served++;
            }
            var q = await Send(app, "GET", Append(path, "token=" + Uri.EscapeDataString(Token)));
            Assert.True(q.Status == HttpStatusCode.OK, $"{path}?token=: {(int)q.Status} {q.Body}");
            served++;
        }
        var action = await Send(app, "POST", "/computer/action", header: ("Bearer", Token), body: """{"action":"mouse_move","coordinate":[10,20]}""");
        Assert.True(action.Status == HttpStatusCode.OK, action.Body);
        served++;

        Assert.DoesNotContain(Token, app.Output);
        Assert.DoesNotContain(Token, ReadAllText(app.SharedDir));
        Figures.Report(output, $"security(rest): {refused} requests without a valid token refused with 401, {served} with it served, token in logs: 0");
    }

    [Fact]
    public async Task SANDBOX_TOKEN_alone_protects_the_gateway_and_its_WebSocket()
    {
        using var app = ApplianceProcess.Start(null, new Dictionary<string, string?> { ["SANDBOX_TOKEN"] = Token, ["KG_AUTH_TOKEN"] = null });
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{app.GatewayPort}"), Timeout = TimeSpan.FromSeconds(60) };

        using (var r = await http.GetAsync("/api")) Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode);
        using (var r = await http.PostAsync("/api/kernels", null)) Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode);
        using (var r = await http.GetAsync("/api?token=wrong")) Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode);
        using (var r = await http.GetAsync("/api?token=" + Token)) Assert.Equal(HttpStatusCode.OK, r.StatusCode);

        string id;
        using (var req = new HttpRequestMessage(HttpMethod.Post, "/api/kernels"))
        {
            req.Headers.Authorization = new AuthenticationHeaderValue("token", Token);
            using var r = await http.SendAsync(req);
            Assert.Equal(HttpStatusCode.Created, r.StatusCode);
            id = (await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        }

        var channels = $"ws://127.0.0.1:{app.GatewayPort}/api/kernels/{id}/channels";
        foreach (var url in new[] { channels, channels + "?token=wrong" })
        {
            using var ws = new ClientWebSocket();
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            var e = await Assert.ThrowsAnyAsync<WebSocketException>(() => ws.ConnectAsync(new Uri(url), cts.Token));
            Assert.Contains("401", e.Message);
        }
        using (var ws = new ClientWebSocket())
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await ws.ConnectAsync(new Uri(channels + "?token=" + Token), cts.Token);
            Assert.Equal(WebSocketState.Open, ws.State);
            await ws.CloseAsync(WebSocketCloseStatus.NormalClosure, "", cts.Token);
        }

        // The connection file holds the HMAC key that authorises code execution: owner-only, in an owner-only dir.
        var file = Path.Combine(app.SharedDir, "kernels", $"kernel-{id}.json");
        Assert.True(File.Exists(file), file);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute,
            File.GetUnixFileMode(Path.Combine(app.SharedDir, "kernels")) & (UnixFileMode)0x1FF);
        Assert.DoesNotContain(Token, app.Output);
        Assert.DoesNotContain(Token, ReadAllText(app.SharedDir));
        Figures.Report(output, "security(gateway): REST and WebSocket refused without SANDBOX_TOKEN (401), accepted with it; connection file 0600 in a 0700 dir");
    }

    [Fact]
    public async Task The_capture_shared_memory_segment_is_owner_only_and_already_marked_for_removal()
    {
        using var x = XvfbServer.Start(640, 480);
        using var app = ApplianceProcess.Start(x);
        await app.GetJsonAsync("/screenshot");
        var mine = ShmSegment.CreatedBy(app.Pid);
        Assert.NotEmpty(mine);
        foreach (var s in mine)
        {
            Assert.True((s.Mode & 0x1FF) == 0x180, $"segment {s.Id} mode {Convert.ToString(s.Mode, 8)}");
            Assert.True((s.Mode & 0x200) != 0, $"segment {s.Id} is not marked for removal (SHM_DEST), mode {Convert.ToString(s.Mode, 8)}");
        }
        Figures.Report(output, $"security(shm): {mine.Count} capture segment(s), mode 0600, IPC_RMID already set");
    }

    private static void AssertUnauthorized((HttpStatusCode Status, string Body) r, string method, string path)
    {
        Assert.True(r.Status == HttpStatusCode.Unauthorized, $"{method} {path}: {(int)r.Status} {r.Body}");
        if (method == "HEAD") return;
        var body = JsonDocument.Parse(r.Body).RootElement;
        Assert.Equal("Unauthorized", body.GetProperty("reason").GetString());
        Assert.False(string.IsNullOrEmpty(body.GetProperty("message").GetString()));
    }

    private static string Append(string path, string query) => path + (path.Contains('?') ? "&" : "?") + query;

    private static async Task<(HttpStatusCode Status, string Body)> Send(ApplianceProcess app, string method, string path,
        (string Scheme, string Value)? header = null, string? body = null)
    {
        using var req = new HttpRequestMessage(new HttpMethod(method), path);
        if (header is { } h) req.Headers.TryAddWithoutValidation("Authorization", h.Value.Length > 0 ? $"{h.Scheme} {h.Value}" : h.Scheme);
        if (method == "POST") req.Content = new StringContent(body ?? """{"action":"cursor_position"}""", Encoding.UTF8, "application/json");
        using var r = await app.Http.SendAsync(req);
        return (r.StatusCode, await r.Content.ReadAsStringAsync());
    }

    private static string ReadAllText(string dir)
    {
        var sb = new StringBuilder();
        foreach (var f in Directory.EnumerateFiles(dir, "*.log", SearchOption.AllDirectories))
            sb.Append(File.ReadAllText(f));
        return sb.ToString();
    }
}
