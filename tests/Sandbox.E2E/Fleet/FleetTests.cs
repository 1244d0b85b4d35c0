using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Sandbox.E2E.Infrastructure;
using Sandbox.Testing;
using Xunit.Abstractions;

namespace Sandbox.E2E.Fleet;

/// <summary>The orchestrator endpoints of the published binary: probes, POST /init, orphan reaping, draining.</summary>
[Collection("Fleet E2E")]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class FleetTests(ITestOutputHelper output)
{
    private const string Token = "fleet-Tok3n-0123456789";

    [Fact]
    public async Task Readyz_is_503_with_a_reason_until_the_kernel_pool_has_a_kernel_then_200_and_healthz_is_open()
    {
        using var x = XvfbServer.Start(640, 480);
        using var app = ApplianceProcess.Start(x, new Dictionary<string, string?> { ["KG_PRESPAWN_COUNT"] = "1" });
        var seen503 = false;
        JsonElement ready = default;
        for (var i = 0; i < 1200; i++)
        {
            var (status, body) = await Get(app, "/readyz");
            if (status == HttpStatusCode.OK) { ready = body; break; }
            Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
            Assert.False(body.GetProperty("ready").GetBoolean());
            Assert.True(body.GetProperty("reasons").GetArrayLength() > 0);
            Assert.Equal("starting", body.GetProperty("status").GetString());
            seen503 = true;
            await Task.Delay(50);
        }
        Assert.Equal("ready", ready.GetProperty("status").GetString());
        output.WriteLine($"503 seen before ready: {seen503}");
        // The pool really has a kernel by then, and the display is really there.
        var health = await app.GetJsonAsync("/health");
        Assert.True(health.GetProperty("gateway").GetProperty("pool_ready").GetInt32() >= 1);
        Assert.Equal("connected", health.GetProperty("display").GetProperty("state").GetString());
        Assert.True(health.TryGetProperty("container", out var container));
        Assert.Equal(Environment.ProcessorCount, container.GetProperty("processor_count").GetInt32());
        Assert.Equal(HttpStatusCode.OK, (await Get(app, "/v1/health")).Status);
        var (live, liveBody) = await Get(app, "/healthz");
        Assert.Equal(HttpStatusCode.OK, live);
        Assert.Equal("alive", liveBody.GetProperty("status").GetString());
    }

    [Fact]
    public async Task Readyz_names_the_display_when_it_is_absent_and_stays_open_with_a_token()
    {
        using var app = ApplianceProcess.Start(null, new Dictionary<string, string?> { ["DISPLAY"] = ":254", ["SANDBOX_TOKEN"] = Token });
        var (status, body) = await Get(app, "/readyz");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Contains(body.GetProperty("reasons").EnumerateArray(), r => r.GetString()!.StartsWith("display:"));
        Assert.Equal(HttpStatusCode.OK, (await Get(app, "/healthz")).Status);
        // Open probes, closed everything else.
        Assert.Equal(HttpStatusCode.Unauthorized, (await Post(app, "/init", "{}")).Status);
    }

    [Fact]
    public async Task Init_sets_the_token_once_for_both_ports_and_the_env_of_new_kernels_pooled_ones_included()
    {
        using var x = XvfbServer.Start(640, 480);
        using var app = ApplianceProcess.Start(x, new Dictionary<string, string?> { ["KG_PRESPAWN_COUNT"] = "1" });
        app.WaitHealthy();
        // A warm sandbox: the pool holds a kernel started before /init.
        for (var i = 0; i < 1200 && (await Get(app, "/readyz")).Status != HttpStatusCode.OK; i++) await Task.Delay(100);
        const string body = """{"token":"fleet-Tok3n-0123456789","env":{"FLEET_E2E_VALUE":"forty two"},"timestamp":"2026-01-01T00:00:00Z"}""";

        // Open before a token is set; retried at once it is the same answer.
        var (first, firstBody) = await Post(app, "/init", body);
        Assert.Equal(HttpStatusCode.OK, first);
        Assert.True(firstBody.GetProperty("token_set").GetBoolean());
        Assert.Equal(1, firstBody.GetProperty("env_count").GetInt32());
        Assert.True(firstBody.GetProperty("clock_skew_ms").GetDouble() < 0);

        // Now both ports want the token; /init too.
        Assert.Equal(HttpStatusCode.Unauthorized, (await Post(app, "/init", body)).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await Get(app, "/screenshot")).Status);
        using (var plain = new HttpClient())
            Assert.Equal(HttpStatusCode.Unauthorized, (await plain.GetAsync($"http://127.0.0.1:{app.GatewayPort}/api/kernels/x")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Post(app, "/init", body, Token)).Status);
        Assert.Equal(HttpStatusCode.OK, (await Get(app, "/screenshot", Token)).Status);
        var (conflict, conflictBody) = await Post(app, "/init", """{"token":"another"}""", Token);
        Assert.Equal(HttpStatusCode.Conflict, conflict);
        Assert.Equal("Conflict", conflictBody.GetProperty("reason").GetString());
        // Still the first token after the refused change.
        Assert.Equal(HttpStatusCode.OK, (await Get(app, "/screenshot", Token)).Status);
        // The appliance's own settings cannot be changed; nothing of a refused request is applied.
        var (bad, badBody) = await Post(app, "/init", """{"env":{"SANDBOX_TOKEN":"x","OK_NAME":"1"}}""", Token);
        Assert.Equal(HttpStatusCode.BadRequest, bad);
        Assert.Contains("SANDBOX_TOKEN", badBody.GetProperty("message").GetString());
        Assert.Equal(HttpStatusCode.BadRequest, (await Post(app, "/init", """{"timestamp":"yesterday"}""", Token)).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await Post(app, "/init", "[1,2]", Token)).Status);

        // The kernel a claim takes now (from the pool, which was refilled after /init) sees the variable.
        using var http = new HttpClient { Timeout = Kernels.Patience };
        http.DefaultRequestHeaders.Add("Authorization", "token " + Token);
        using var created = await http.PostAsync($"http://127.0.0.1:{app.GatewayPort}/api/kernels", null);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        await using var ws = await JupyterWsClient.ConnectAsync(Kernels.ChannelsUrl(app, id), headerToken: Token);
        var printed = JupyterWsClient.StreamText(await ws.ExecuteAsync(
            "import os; print(repr(os.environ.get('FLEET_E2E_VALUE')), 'SANDBOX_TOKEN' in os.environ)", timeout: Kernels.Patience));
        Assert.Equal("'forty two' False", printed.Trim());
    }

    [Fact]
    public async Task As_a_subreaper_it_reaps_orphans_a_kernel_leaves_and_keeps_its_own_children_statuses()
    {
        using var x = XvfbServer.Start(640, 480);
        using var app = ApplianceProcess.Start(x, new Dictionary<string, string?> { ["SANDBOX_FLEET_REAP"] = "on", ["SANDBOX_FLEET_REAP_INTERVAL_MS"] = "200" });
        app.WaitHealthy();
        // Really a subreaper (else the orphan would go to the machine's init, which reaps it for us).
        Assert.Contains("reaping orphaned processes (child subreaper)", app.Output);
        var id = await Kernels.StartAsync(app);
        await using var ws = await Kernels.ConnectAsync(app, id);
        // sh starts sleep in the background and exits: sleep is orphaned, re-parented to the appliance (the subreaper).
        var printed = JupyterWsClient.StreamText(await ws.ExecuteAsync(
            "import subprocess\nprint(subprocess.run(['sh', '-c', 'sleep 0.3 & echo $!'], capture_output=True, text=True).stdout.strip())",
            timeout: Kernels.Patience));
        var orphan = int.Parse(printed.Trim());
        output.WriteLine($"orphan pid {orphan}");
        // Gone entirely (reaped), not merely a zombie.
        var reaped = false;
        for (var i = 0; i < 300 && !reaped; i++)
        {
            reaped = !Directory.Exists($"/proc/{orphan}") || ParentOf(orphan) != app.Pid;
            if (!reaped) await Task.Delay(100);
        }
        Assert.True(reaped, $"orphan {orphan} is still the appliance's child (a zombie nobody reaped)");
        // The appliance's own child (the kernel) is still waited for by the gateway: its exit is reported, not stolen.
        using var r = await app.Http.GetAsync($"http://127.0.0.1:{app.GatewayPort}/api/kernels/{id}");
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        await Kernels.DeleteAsync(app, id);
        Assert.Empty(ZombieChildren(app.Pid));
        Assert.Equal(0, app.Stop());
    }

    private static int? ParentOf(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1]);
        }
        catch (IOException) { return null; }
    }

    private static List<int> ZombieChildren(int parent)
    {
        var zombies = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var rest = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (rest[0] == "Z" && int.Parse(rest[1]) == parent) zombies.Add(pid);
            }
            catch (IOException) { }
        }
        return zombies;
    }

    private static async Task<(HttpStatusCode Status, JsonElement Body)> Get(ApplianceProcess app, string path, string? token = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{app.Port}{path}");
        if (token is not null) request.Headers.Add("Authorization", "token " + token);
        return await Send(request);
    }

    private static async Task<(HttpStatusCode Status, JsonElement Body)> Post(ApplianceProcess app, string path, string json, string? token = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"http://127.0.0.1:{app.Port}{path}")
        {
            Content = new StringContent(json, Encoding.UTF8, "application/json"),
        };
        if (token is not null) request.Headers.Add("Authorization", "token " + token);
        return await Send(request);
    }

    private static async Task<(HttpStatusCode, JsonElement)> Send(HttpRequestMessage request)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        var body = text.Length > 0 && text[0] == '{' ? JsonDocument.Parse(text).RootElement.Clone() : default;
        return (response.StatusCode, body);
    }
}

[CollectionDefinition("Fleet E2E", DisableParallelization = true)]
public sealed class FleetCollection;
