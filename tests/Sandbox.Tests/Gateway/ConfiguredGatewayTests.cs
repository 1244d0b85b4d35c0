using Sandbox.Common;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using Sandbox.Gateway;
using Sandbox.Testing;
using static Sandbox.Testing.JupyterWsClient;

namespace Sandbox.Tests.Gateway;

/// <summary>Behaviour behind options: auth, CORS, listing, limits, rate limiting, culling, venv, external mode, leftovers.</summary>
[Collection("Gateway")]
public sealed class ConfiguredGatewayTests
{
    private static async Task<JsonNode> JsonAsync(HttpResponseMessage r) => JsonNode.Parse(await r.Content.ReadAsStringAsync())!;

    [Fact]
    public async Task B_token_is_required_and_a_new_websocket_per_execution_with_query_token_works()
    {
        await using var host = await GatewayHost.StartAsync(env => env["KG_AUTH_TOKEN"] = "s3cret");
        using var anonymous = new HttpClient();
        using (var r = await anonymous.GetAsync(host.BaseUrl + "/api"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode);
            Assert.Equal("Unauthorized", (await JsonAsync(r))["reason"]!.GetValue<string>());
        }
        using (var r = await anonymous.GetAsync(host.BaseUrl + "/api?token=wrong"))
            Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode);
        using (var r = await anonymous.GetAsync(host.BaseUrl + "/api?token=s3cret"))
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        using (var r = await anonymous.PostAsync(host.BaseUrl + "/api/kernels", null))
            Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode);

        var id = await host.StartKernelAsync();
        var noToken = await Assert.ThrowsAsync<WebSocketException>(() =>
            JupyterWsClient.ConnectAsync($"{host.WsBase}/api/kernels/{id}/channels"));
        Assert.Contains("401", noToken.Message);

        await using (var first = await host.ConnectAsync(id, tokenInQuery: true))
            await first.ExecuteAsync("x = 41");
        await using (var second = await host.ConnectAsync(id, tokenInQuery: true))
        {
            Assert.Equal("42\n", StreamText(await second.ExecuteAsync("print(x + 1)")));
            // The kernel never sees the gateway's token.
            Assert.Equal("None\n", StreamText(await second.ExecuteAsync("import os; print(os.environ.get('KG_AUTH_TOKEN'))")));
        }
    }

    [Fact]
    public async Task Cors_headers_follow_KG_ALLOW_ORIGIN_and_preflight_needs_no_token()
    {
        await using var host = await GatewayHost.StartAsync(env =>
        {
            env["KG_AUTH_TOKEN"] = "t";
            env["KG_ALLOW_ORIGIN"] = "*";
            env["KG_ALLOW_HEADERS"] = "Content-Type, Authorization";
            env["KG_PRESPAWN_COUNT"] = "0";
        });
        using var anonymous = new HttpClient();
        using var preflight = await anonymous.SendAsync(new HttpRequestMessage(HttpMethod.Options, host.BaseUrl + "/api/kernels"));
        Assert.Equal(HttpStatusCode.OK, preflight.StatusCode);
        Assert.Equal("*", preflight.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.Equal("Content-Type, Authorization", preflight.Headers.GetValues("Access-Control-Allow-Headers").Single());
        using var get = await host.Http.GetAsync(host.BaseUrl + "/api");
        Assert.Equal("*", get.Headers.GetValues("Access-Control-Allow-Origin").Single());
    }

    [Fact]
    public async Task Listing_can_be_switched_off_and_max_kernels_answers_resource_limit()
    {
        await using var host = await GatewayHost.StartAsync(env =>
        {
            env["KG_LIST_KERNELS"] = "False";
            env["KG_MAX_KERNELS"] = "1";
            env["KG_PRESPAWN_COUNT"] = "0";
        });
        using (var r = await host.Http.GetAsync(host.BaseUrl + "/api/kernels"))
            Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode);
        using (var r = await host.Http.GetAsync(host.BaseUrl + "/api/sessions"))
            Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode);
        await host.StartKernelAsync();
        using var refused = await host.Http.PostAsync(host.BaseUrl + "/api/kernels", null);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        var body = await JsonAsync(refused);
        Assert.Equal("Forbidden", body["reason"]!.GetValue<string>());
        Assert.Equal("Resource Limit", body["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_frame_over_the_limit_closes_with_1009()
    {
        await using var host = await GatewayHost.StartAsync(env => env["SANDBOX_WS_MAX_MESSAGE_BYTES"] = "4096");
        var id = await host.StartKernelAsync();
        await using var ws = await host.ConnectAsync(id);
        await ws.ExecuteAsync("print('x' * 100)");
        await ws.SendAsync("execute_request", new JsonObject { ["code"] = new string('#', 10_000) });
        Assert.Null(await ws.WaitForCloseAsync());
        Assert.Equal(WebSocketCloseStatus.MessageTooBig, ws.Socket.CloseStatus);
    }

    [Fact]
    public async Task An_iopub_flood_is_rate_limited_with_a_notice_and_the_reply_still_comes()
    {
        await using var host = await GatewayHost.StartAsync(env =>
        {
            env["KG_IOPUB_MSG_RATE_LIMIT"] = "100";
            env["KG_RATE_LIMIT_WINDOW"] = "1";
        });
        var id = await host.StartKernelAsync();
        await using var ws = await host.ConnectAsync(id);
        var messages = await ws.ExecuteAsync("for i in range(3000): print(i, flush=True)", timeout: TimeSpan.FromSeconds(60));
        var streams = messages.Where(m => Type(m) == "stream").ToList();
        Assert.Contains(streams, m => m["content"]!["name"]!.GetValue<string>() == "stderr" && m["content"]!["text"]!.GetValue<string>().Contains("IOPub message rate exceeded"));
        Assert.True(streams.Count < 3000, $"{streams.Count} stream messages passed");
        Assert.Equal("ok", messages.Single(m => Type(m) == "execute_reply")["content"]!["status"]!.GetValue<string>());
        // The limit resets on idle: the next cell's output is whole.
        Assert.Equal("after\n", StreamText(await ws.ExecuteAsync("print('after')")));
    }

    [Fact]
    public async Task Idle_kernels_are_culled()
    {
        await using var host = await GatewayHost.StartAsync(env =>
        {
            env["KG_CULL_IDLE_TIMEOUT"] = "1";
            env["KG_CULL_INTERVAL"] = "1";
            env["KG_PRESPAWN_COUNT"] = "0";
        });
        var id = await host.StartKernelAsync();
        await RestApiTests.WaitUntil(() => host.Service.Kernels!.Get(id) is null, 30);
        using var r = await host.Http.GetAsync($"{host.BaseUrl}/api/kernels/{id}");
        Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
    }

    [Fact]
    public async Task Kernels_run_from_the_configured_venv_with_its_VIRTUAL_ENV_and_PATH()
    {
        var venv = Path.Combine(Directory.CreateTempSubdirectory("sandbox-venv-").FullName, "venv");
        await RunAsync("/usr/bin/python3", "-m", "venv", "--system-site-packages", venv);
        try
        {
            await using var host = await GatewayHost.StartAsync(env => env["SANDBOX_KERNEL_VENV"] = venv);
            var id = await host.StartKernelAsync();
            await using var ws = await host.ConnectAsync(id);
            var output = StreamText(await ws.ExecuteAsync(
                "import sys, os, shutil\nprint(sys.prefix)\nprint(os.environ['VIRTUAL_ENV'])\nprint(shutil.which('python'))"));
            Assert.Equal($"{venv}\n{venv}\n{venv}/bin/python\n", output);
            // %pip runs the kernel's own interpreter, so installs land in the venv.
            var pip = StreamText(await ws.ExecuteAsync("%pip --version"));
            Assert.Contains(venv, pip);
            using var specs = await host.Http.GetAsync(host.BaseUrl + "/api/kernelspecs/python3");
            Assert.Equal($"{venv}/bin/python", (await JsonAsync(specs))["spec"]!["argv"]![0]!.GetValue<string>());
            Assert.Contains("ready", host.Service.Health().KernelEnv);
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(venv)!, recursive: true);
        }
    }

    [Fact]
    public async Task Without_uv_a_missing_venv_falls_back_to_the_system_kernelspec()
    {
        await using var host = await GatewayHost.StartAsync(env =>
        {
            env["SANDBOX_KERNEL_VENV"] = "/nonexistent/sandbox-venv";
            env["PATH"] = "/usr/bin:/bin";
        });
        var id = await host.StartKernelAsync();
        await using var ws = await host.ConnectAsync(id);
        Assert.Equal("/usr\n", StreamText(await ws.ExecuteAsync("import sys; print(sys.prefix)")));
        Assert.Contains("unavailable", host.Service.Health().KernelEnv);
    }

    [Fact]
    public async Task With_uv_the_venv_is_created_once_and_reused()
    {
        // A stand-in for uv that logs its calls and does what they ask with the stdlib venv module.
        var dir = Directory.CreateTempSubdirectory("sandbox-uv-").FullName;
        var venv = Path.Combine(dir, "venv");
        var calls = Path.Combine(dir, "calls.log");
        var uv = Path.Combine(dir, "uv");
        await File.WriteAllTextAsync(uv, $"""
            #!/bin/sh
            echo "$@" >> {calls}
            if [ "$1" = venv ]; then exec /usr/bin/python3 -m venv --system-site-packages --without-pip "$3"; fi
            exit 0
            """);
        if (OperatingSystem.IsLinux()) File.SetUnixFileMode(uv, (UnixFileMode)0b111_101_101);
        try
        {
            for (var boot = 0; boot < 2; boot++)
            {
                await using var host = await GatewayHost.StartAsync(env =>
                {
                    env["SANDBOX_KERNEL_VENV"] = venv;
                    env["SANDBOX_UV"] = uv;
                    env["SANDBOX_KERNEL_PACKAGES"] = "pyautogui";
                });
                var id = await host.StartKernelAsync();
                await using var ws = await host.ConnectAsync(id);
                Assert.Equal($"{venv}\n", StreamText(await ws.ExecuteAsync("import sys; print(sys.prefix)")));
            }
            var log = await File.ReadAllLinesAsync(calls);
            Assert.Equal(["venv --seed " + venv, $"pip install --python {venv}/bin/python pyautogui"], log);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task External_mode_supervises_the_command_and_restarts_it()
    {
        var port = FreePort();
        var root = Directory.CreateTempSubdirectory("sandbox-ext-").FullName;
        await using var host = await GatewayHost.StartAsync(env =>
        {
            env["SANDBOX_KERNEL_GATEWAY"] = "external";
            env["JUPYTER_KERNEL_GATEWAY_APP_PORT"] = port.ToString();
            env["SANDBOX_KERNEL_GATEWAY_BACKOFF_MIN_MS"] = "100";
            env["SANDBOX_KERNEL_GATEWAY_COMMAND"] =
                $"exec /usr/bin/python3 -m jupyter_server --ServerApp.ip=127.0.0.1 --ServerApp.port=$JUPYTER_KERNEL_GATEWAY_APP_PORT " +
                $"--ServerApp.token=ext --ServerApp.open_browser=False --ServerApp.root_dir={root} --ServerApp.port_retries=0 --allow-root";
        });
        using var http = new HttpClient();
        async Task WaitForApi()
        {
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (true)
            {
                try
                {
                    using var r = await http.GetAsync($"http://127.0.0.1:{port}/api?token=ext");
                    if (r.StatusCode == HttpStatusCode.OK) return;
                }
                catch (HttpRequestException) { }
                if (DateTime.UtcNow > deadline) throw new TimeoutException("external gateway did not answer");
                await Task.Delay(100);
            }
        }
        await WaitForApi();
        var health = host.Service.Health();
        Assert.Equal("external", health.Mode);
        Assert.Equal("running", health.External!.State);
        System.Diagnostics.Process.GetProcessById(health.External.Pid!.Value).Kill();
        await RestApiTests.WaitUntil(() => host.Service.Health().External!.Restarts >= 1);
        await WaitForApi();
        Assert.NotEqual(health.External.Pid, host.Service.Health().External!.Pid);
        Directory.Delete(root, recursive: true);
    }

    [Fact]
    public async Task Leftover_kernels_of_a_crashed_appliance_are_killed_at_start()
    {
        var shared = Directory.CreateTempSubdirectory("sandbox-left-").FullName;
        var env = GatewayHost.DefaultEnv(shared);
        var options = GatewayOptions.FromEnvironment(env);
        var launcher = new KernelLauncher(options, env, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        launcher.EnsureRuntimeDir();
        // A "kernel" that survived its appliance: its own process group, recorded in the pid file.
        var orphan = await ChildProcess.StartAsync(new ChildStart("/bin/sleep", ["sleep", "600"], new Dictionary<string, string>(), null, null));
        launcher.WritePidFile("orphan", orphan.Pid);
        Assert.Equal(1, launcher.KillLeftovers());
        var status = await orphan.Exited.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("signal 9", ChildProcess.Describe(status));
        Assert.Empty(Directory.GetFiles(options.RuntimeDir, "*.pid"));
        // A pid file whose pid now belongs to another process (start time differs) is left alone.
        File.WriteAllText(Path.Combine(options.RuntimeDir, "kernel-reused.pid"), $"{Environment.ProcessId} 1\n");
        Assert.Equal(0, launcher.KillLeftovers());
        Directory.Delete(shared, recursive: true);
    }

    private static int FreePort()
    {
        using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        s.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)s.LocalEndPoint!).Port;
    }

    private static async Task RunAsync(string file, params string[] args)
    {
        var psi = new System.Diagnostics.ProcessStartInfo(file);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = System.Diagnostics.Process.Start(psi)!;
        await p.WaitForExitAsync();
        Assert.Equal(0, p.ExitCode);
    }
}
