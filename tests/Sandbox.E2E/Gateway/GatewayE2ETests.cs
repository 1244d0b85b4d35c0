using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Sandbox.E2E.Infrastructure;
using Sandbox.E2E.Reliability;
using Sandbox.Testing;
using Xunit.Abstractions;

namespace Sandbox.E2E.Gateway;

/// <summary>The kernel gateway of the published binary: real clients, real kernels, real signals.</summary>
[Collection("Gateway E2E")]
public sealed class GatewayE2ETests(ITestOutputHelper output)
{
    [Fact]
    public async Task Pointer_moved_by_XTest_from_a_kernel_is_where_xdotool_sees_it()
    {
        using var x = XvfbServer.Start(1280, 800);
        using var app = ApplianceProcess.Start(x);
        var id = await StartKernelAsync(app);
        using var ws = await ConnectAsync(app, id);
        var output = await ExecuteAsync(ws,
            "from Xlib import display, X\nfrom Xlib.ext import xtest\nd = display.Display()\n" +
            "xtest.fake_input(d, X.MotionNotify, x=123, y=234)\nd.sync()\nprint('moved')");
        Assert.Equal("moved\n", output);
        var (_, stdout, _) = Processes.Run("xdotool", ["getmouselocation"], x.Env.ToDictionary());
        Assert.StartsWith("x:123 y:234 ", stdout);
        // /health on the REST port reports the gateway and the connected kernel.
        var health = await app.GetJsonAsync("/health");
        var gateway = health.GetProperty("gateway");
        Assert.Equal("builtin", gateway.GetProperty("mode").GetString());
        Assert.Equal(1, gateway.GetProperty("connections").GetInt32());
        Assert.Equal(id, gateway.GetProperty("kernel_list")[0].GetProperty("id").GetString());
    }

    [Fact]
    public async Task After_SIGTERM_no_kernel_nor_its_children_remain()
    {
        using var app = ApplianceProcess.Start(null, new Dictionary<string, string?> { ["KG_PRESPAWN_COUNT"] = "1" });
        var (kernelPid, childPid) = await KernelWithChildAsync(app);
        var poolPid = await WaitPoolPidAsync(app);
        Assert.Equal(0, app.Stop());
        Assert.True(await GoneAsync(kernelPid), "kernel survived SIGTERM");
        Assert.True(await GoneAsync(childPid), "kernel's child survived SIGTERM");
        Assert.True(await GoneAsync(poolPid), "pooled kernel survived SIGTERM");
    }

    [Fact]
    public async Task After_SIGKILL_the_kernel_dies_with_the_appliance_and_the_next_start_kills_its_children()
    {
        using var first = ApplianceProcess.Start(null);
        var (kernelPid, childPid) = await KernelWithChildAsync(first);
        Processes.Run("kill", ["-KILL", first.Pid.ToString()]);
        // PR_SET_PDEATHSIG (setpriv) takes the kernel along at once.
        Assert.True(await GoneAsync(kernelPid), "kernel survived the appliance's SIGKILL");
        // What the kernel started is recorded by its process group; the next appliance on the same
        // SHARED_DIR kills that group from the pid file.
        using var second = ApplianceProcess.Start(null, new Dictionary<string, string?> { ["SHARED_DIR"] = first.SharedDir });
        Assert.True(await GoneAsync(childPid), "the kernel's child survived the next start");
        Assert.Empty(Directory.GetFiles(Path.Combine(first.SharedDir, "kernels"), "*.pid"));
        Figures.Report(output, "faults(appliance SIGKILL, kernels): the kernel died with the appliance, its child was killed by the " +
            "next start on the same SHARED_DIR, pid files left 0, kernels left 0");
    }

    private static async Task<(int Kernel, int Child)> KernelWithChildAsync(ApplianceProcess app)
    {
        var id = await StartKernelAsync(app);
        using var ws = await ConnectAsync(app, id);
        var output = await ExecuteAsync(ws, "import os, subprocess\np = subprocess.Popen(['sleep', '600'])\nprint(os.getpid(), p.pid)");
        var parts = output.Split(' ', StringSplitOptions.TrimEntries);
        return (int.Parse(parts[0]), int.Parse(parts[1]));
    }

    private static async Task<int> WaitPoolPidAsync(ApplianceProcess app)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            var pids = Directory.GetFiles(Path.Combine(app.SharedDir, "kernels"), "*.pid")
                .Select(f => int.Parse(File.ReadAllText(f).Split(' ')[0])).ToList();
            var gateway = (await app.GetJsonAsync("/health")).GetProperty("gateway");
            var clientPids = gateway.GetProperty("kernel_list").EnumerateArray().Select(k => k.GetProperty("pid").GetInt32()).ToHashSet();
            if (gateway.GetProperty("pool_ready").GetInt32() == 1 && pids.FirstOrDefault(p => !clientPids.Contains(p)) is var pool and > 0)
                return pool;
            await Task.Delay(100);
        }
        throw new TimeoutException("the pool did not refill");
    }

    /// <summary>True once the pid is gone or a zombie (dead, waiting for its new parent to reap it).</summary>
    private static async Task<bool> GoneAsync(int pid)
    {
        for (var i = 0; i < 100; i++)
        {
            try
            {
                var stat = File.ReadAllText($"/proc/{pid}/stat");
                if (stat[(stat.LastIndexOf(')') + 2)] == 'Z') return true;
            }
            catch (IOException) { return true; }
            await Task.Delay(100);
        }
        return false;
    }

    private static async Task<string> StartKernelAsync(ApplianceProcess app)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        using var r = await http.PostAsync($"http://127.0.0.1:{app.GatewayPort}/api/kernels", null);
        Assert.Equal(System.Net.HttpStatusCode.Created, r.StatusCode);
        return (await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
    }

    private static async Task<ClientWebSocket> ConnectAsync(ApplianceProcess app, string id)
    {
        var ws = new ClientWebSocket();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await ws.ConnectAsync(new Uri($"ws://127.0.0.1:{app.GatewayPort}/api/kernels/{id}/channels"), cts.Token);
        return ws;
    }

    /// <summary>Runs code the way agents do (no channel key) and returns its stdout once the kernel is idle.</summary>
    private static async Task<string> ExecuteAsync(ClientWebSocket ws, string code)
    {
        var msgId = Guid.NewGuid().ToString("N");
        var msg = new JsonObject
        {
            ["header"] = new JsonObject { ["msg_id"] = msgId, ["msg_type"] = "execute_request", ["username"] = "e2e", ["session"] = "e2e", ["version"] = "5.3" },
            ["parent_header"] = new JsonObject(),
            ["metadata"] = new JsonObject(),
            ["content"] = new JsonObject { ["code"] = code, ["silent"] = false },
        };
        await ws.SendAsync(Encoding.UTF8.GetBytes(msg.ToJsonString()), WebSocketMessageType.Text, true, CancellationToken.None);
        var output = new StringBuilder();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var buffer = new byte[1 << 20];
        while (true)
        {
            var count = 0;
            WebSocketReceiveResult r;
            do
            {
                r = await ws.ReceiveAsync(new ArraySegment<byte>(buffer, count, buffer.Length - count), cts.Token);
                count += r.Count;
            } while (!r.EndOfMessage);
            var m = JsonNode.Parse(Encoding.UTF8.GetString(buffer, 0, count))!;
            if (m["parent_header"]?["msg_id"]?.GetValue<string>() != msgId) continue;
            var type = m["msg_type"]!.GetValue<string>();
            if (type == "stream") output.Append(m["content"]!["text"]!.GetValue<string>());
            if (type == "error") throw new InvalidOperationException(m["content"]!["evalue"]!.GetValue<string>());
            if (type == "status" && m["content"]!["execution_state"]!.GetValue<string>() == "idle") return output.ToString();
        }
    }
}

[CollectionDefinition("Gateway E2E", DisableParallelization = true)]
public sealed class GatewayE2ECollection;
