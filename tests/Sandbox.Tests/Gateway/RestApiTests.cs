using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using Sandbox.Testing;
using static Sandbox.Testing.JupyterWsClient;

namespace Sandbox.Tests.Gateway;

/// <summary>REST paths, status codes and bodies as Kernel Gateway's jupyter_websocket personality answers them.</summary>
[Collection("Gateway")]
public sealed class RestApiTests(SharedGateway shared)
{
    private GatewayHost Host => shared.Host;

    private static async Task<JsonNode> JsonAsync(HttpResponseMessage r) => JsonNode.Parse(await r.Content.ReadAsStringAsync())!;

    private static StringContent Body(string json) => new(json, Encoding.UTF8, "application/json");

    [Fact]
    public async Task Api_reports_a_version()
    {
        using var r = await Host.Http.GetAsync(Host.BaseUrl + "/api");
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.False(string.IsNullOrEmpty((await JsonAsync(r))["version"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Kernelspecs_list_debians_python3_as_default_with_its_logo()
    {
        using var r = await Host.Http.GetAsync(Host.BaseUrl + "/api/kernelspecs");
        var body = await JsonAsync(r);
        Assert.Equal("python3", body["default"]!.GetValue<string>());
        var spec = body["kernelspecs"]!["python3"]!;
        Assert.Equal("python3", spec["name"]!.GetValue<string>());
        Assert.Equal("/usr/bin/python3", spec["spec"]!["argv"]![0]!.GetValue<string>());
        Assert.Equal("python", spec["spec"]!["language"]!.GetValue<string>());
        Assert.Equal("signal", spec["spec"]!["interrupt_mode"]!.GetValue<string>());
        var logo = spec["resources"]!["logo-64x64"]!.GetValue<string>();
        using var png = await Host.Http.GetAsync(Host.BaseUrl + logo);
        Assert.Equal("image/png", png.Content.Headers.ContentType!.MediaType);

        using var one = await Host.Http.GetAsync(Host.BaseUrl + "/api/kernelspecs/python3");
        Assert.Equal("python3", (await JsonAsync(one))["name"]!.GetValue<string>());
        using var missing = await Host.Http.GetAsync(Host.BaseUrl + "/api/kernelspecs/nope");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("Not Found", (await JsonAsync(missing))["reason"]!.GetValue<string>());
    }

    [Fact]
    public async Task Unknown_kernelspec_malformed_json_and_bad_env_are_clear_errors()
    {
        using (var r = await Host.Http.PostAsync(Host.BaseUrl + "/api/kernels", Body("{\"name\": \"nope\"}")))
        {
            Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
            var message = (await JsonAsync(r))["message"]!.GetValue<string>();
            Assert.Contains("nope", message);
            Assert.Contains("python3", message);
        }
        using (var r = await Host.Http.PostAsync(Host.BaseUrl + "/api/kernels", Body("{\"name\": ")))
        {
            Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
            var body = await JsonAsync(r);
            Assert.Equal("Bad Request", body["reason"]!.GetValue<string>());
            Assert.Equal("Invalid JSON in body of request", body["message"]!.GetValue<string>());
        }
        using (var r = await Host.Http.PostAsync(Host.BaseUrl + "/api/kernels", Body("{\"env\": {\"KERNEL_X\": 1}}")))
            Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        using (var r = await Host.Http.GetAsync(Host.BaseUrl + "/api/kernels/not-a-kernel"))
            Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
        using (var r = await Host.Http.PostAsync(Host.BaseUrl + "/api/kernels/not-a-kernel/interrupt", null))
            Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
        using (var r = await Host.Http.GetAsync(Host.BaseUrl + "/no/such/path"))
        {
            Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
            Assert.Equal("Not Found", (await JsonAsync(r))["reason"]!.GetValue<string>());
        }
        var ws = await Assert.ThrowsAsync<WebSocketException>(() => Host.ConnectAsync("not-a-kernel"));
        Assert.Contains("404", ws.Message);
    }

    [Fact]
    public async Task Kernels_are_listed_with_jupyters_model()
    {
        var id = await Host.StartKernelAsync();
        using var r = await Host.Http.GetAsync(Host.BaseUrl + "/api/kernels");
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        var kernel = (await JsonAsync(r)).AsArray().Single(k => k!["id"]!.GetValue<string>() == id)!;
        Assert.Equal("python3", kernel["name"]!.GetValue<string>());
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$", kernel["last_activity"]!.GetValue<string>());
        Assert.Equal(0, kernel["connections"]!.GetValue<int>());
        Assert.NotNull(kernel["execution_state"]);
        using var d = await Host.Http.DeleteAsync($"{Host.BaseUrl}/api/kernels/{id}");
    }

    [Fact]
    public async Task A_plain_post_takes_the_warm_pool_kernel_and_the_pool_refills()
    {
        await WaitUntil(() => Host.Service.Kernels!.PoolState().Ready == 1);
        var id = await Host.StartKernelAsync();
        // Taken warm: it had answered kernel_info before the request came.
        Assert.True(Host.Service.Kernels!.Get(id)!.Ready.IsCompletedSuccessfully);
        await WaitUntil(() => Host.Service.Kernels!.PoolState().Ready == 1);
        var health = Host.Service.Health();
        Assert.Equal(1, health.PoolTarget);
        Assert.Contains(health.KernelList!, k => k.Id == id);
        using var d = await Host.Http.DeleteAsync($"{Host.BaseUrl}/api/kernels/{id}");
    }

    [Fact]
    public async Task A_request_with_env_gets_a_fresh_kernel_with_the_filtered_environment()
    {
        var id = await Host.StartKernelAsync("{\"env\": {\"KERNEL_FOO\": \"bar\", \"NOT_WHITELISTED\": \"x\", \"KG_AUTH_TOKEN\": \"leak\"}}");
        await using var ws = await Host.ConnectAsync(id);
        var output = StreamText(await ws.ExecuteAsync(
            "import os\nfor k in ['KERNEL_FOO','NOT_WHITELISTED','KG_AUTH_TOKEN','KERNEL_GATEWAY']: print(k, os.environ.get(k))\nprint('PATH' in os.environ)"));
        Assert.Equal("KERNEL_FOO bar\nNOT_WHITELISTED None\nKG_AUTH_TOKEN None\nKERNEL_GATEWAY 1\nTrue\n", output);
        using var d = await Host.Http.DeleteAsync($"{Host.BaseUrl}/api/kernels/{id}");
    }

    [Fact]
    public async Task Sessions_create_list_patch_and_delete_with_their_kernel()
    {
        using var created = await Host.Http.PostAsync(Host.BaseUrl + "/api/sessions",
            Body("{\"path\": \"agent.ipynb\", \"type\": \"notebook\", \"name\": \"a\", \"kernel\": {\"name\": \"python3\"}}"));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var model = await JsonAsync(created);
        var sessionId = model["id"]!.GetValue<string>();
        var kernelId = model["kernel"]!["id"]!.GetValue<string>();
        Assert.Equal("agent.ipynb", model["notebook"]!["path"]!.GetValue<string>());
        Assert.Equal($"/api/sessions/{sessionId}", created.Headers.Location!.OriginalString);

        using (var again = await Host.Http.PostAsync(Host.BaseUrl + "/api/sessions", Body("{\"path\": \"agent.ipynb\", \"type\": \"notebook\"}")))
            Assert.Equal(sessionId, (await JsonAsync(again))["id"]!.GetValue<string>());
        using (var list = await Host.Http.GetAsync(Host.BaseUrl + "/api/sessions"))
            Assert.Contains((await JsonAsync(list)).AsArray(), s => s!["id"]!.GetValue<string>() == sessionId);
        using (var patch = await Host.Http.PatchAsync($"{Host.BaseUrl}/api/sessions/{sessionId}", Body("{\"name\": \"renamed\"}")))
            Assert.Equal("renamed", (await JsonAsync(patch))["name"]!.GetValue<string>());
        using (var missing = await Host.Http.PostAsync(Host.BaseUrl + "/api/sessions", Body("{\"type\": \"notebook\"}")))
            Assert.Equal("Missing field in JSON data: path", (await JsonAsync(missing))["message"]!.GetValue<string>());

        using (var del = await Host.Http.DeleteAsync($"{Host.BaseUrl}/api/sessions/{sessionId}"))
            Assert.Equal(HttpStatusCode.NoContent, del.StatusCode);
        using (var gone = await Host.Http.GetAsync($"{Host.BaseUrl}/api/kernels/{kernelId}"))
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        using (var gone = await Host.Http.GetAsync($"{Host.BaseUrl}/api/sessions/{sessionId}"))
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }

    [Fact]
    public async Task Bad_websocket_input_is_logged_and_the_connection_stays()
    {
        var id = await Host.StartKernelAsync();
        await using var ws = await Host.ConnectAsync(id);
        await ws.SendTextAsync("{not json");
        await ws.SendTextAsync("[1,2,3]");
        await ws.SendTextAsync("{\"content\": {}}");
        await ws.SendBinaryAsync([1, 2, 3]);
        await ws.SendAsync("execute_request", new JsonObject { ["code"] = "print('never')" }, channel: "iopub");
        await ws.SendAsync("execute_request", new JsonObject { ["code"] = "print('never')" }, channel: "nonsense");
        var messages = await ws.ExecuteAsync("print('still here')");
        Assert.Equal("still here\n", StreamText(messages));
        Assert.DoesNotContain(ws.Seen, m => Type(m) == "stream" && m["content"]!["text"]!.GetValue<string>().Contains("never"));
        var log = await File.ReadAllTextAsync(Host.Options.LogPath);
        Assert.Contains("malformed JSON", log);
        Assert.Contains("no such channel nonsense", log);
        using var d = await Host.Http.DeleteAsync($"{Host.BaseUrl}/api/kernels/{id}");
    }

    internal static async Task WaitUntil(Func<bool> condition, int seconds = 60)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("condition not met");
            await Task.Delay(50);
        }
    }
}
