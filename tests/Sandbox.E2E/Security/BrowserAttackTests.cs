using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using Sandbox.E2E.Infrastructure;
using Sandbox.E2E.LiveView;
using Sandbox.E2E.Reliability;
using Sandbox.Testing;
using Xunit.Abstractions;

namespace Sandbox.E2E.Security;

/// <summary>
/// The browser inside the VM is the attacker (docs/security.md): a page in a real headless Chromium, served
/// from another site, tries every request a page can make without the user's help, and a DNS-rebinding page
/// tries again as "same origin". Effects are checked independently: the pointer (xdotool), the kernels
/// (/api/kernels), the recorder (/record?mode=status).
/// </summary>
[Collection("Reliability")]
public sealed class BrowserAttackTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_hostile_page_can_neither_act_nor_watch_nor_start_kernels_or_recordings()
    {
        using var x = XvfbServer.Start(800, 600);
        using var app = ApplianceProcess.Start(x);
        x.MovePointer(500, 400);
        var kernel = await Kernels.StartAsync(app);
        var kernelsBefore = await KernelCount(app);

        var result = RunAttacker($"http://127.0.0.1:{app.Port}", $"http://127.0.0.1:{app.GatewayPort}", kernel);
        output.WriteLine(result.ToString());
        var attacks = result.GetProperty("attacks");

        Assert.Equal((500, 400), x.PointerPosition());
        Assert.Equal(kernelsBefore, await KernelCount(app));
        var status = await app.GetJsonAsync("/record?mode=status");
        Assert.Equal("no_action_recording", status.GetProperty("action_recording_status").GetString());

        foreach (var ws in new[] { "ws_view_stream", "ws_kernel_channels" })
        {
            var a = attacks.GetProperty(ws);
            Assert.True(!a.TryGetProperty("opened", out var opened) || !opened.GetBoolean(), $"{ws} opened: {a}");
            Assert.True(!a.TryGetProperty("messages", out var n) || n.GetInt32() == 0, $"{ws} got messages: {a}");
        }
        // The page cannot read an answer it was not allowed (CORS), and the img load failed.
        Assert.True(attacks.GetProperty("cors_post_action").TryGetProperty("blocked", out _), attacks.GetProperty("cors_post_action").ToString());
        Assert.Equal("error", attacks.GetProperty("img_record_start").GetProperty("event").GetString());
        foreach (var rebind in new[] { "rebind_gateway_kernels", "rebind_rest_action" })
        {
            var a = attacks.GetProperty(rebind);
            Assert.True(a.TryGetProperty("status", out var s) && s.GetInt32() == 403, $"{rebind}: {a}");
            Assert.Contains("Host", a.GetProperty("body").GetString());
        }
        Figures.Report(output, $"security(browser): {attacks.EnumerateObject().Count()} attacks from a hostile page in Chromium: pointer unmoved, " +
                               $"kernels {kernelsBefore}→{await KernelCount(app)}, no recording, 0 stream frames, DNS rebinding refused (403)");
    }

    [Fact]
    public async Task Foreign_Host_Origin_and_simple_bodies_are_refused_while_plain_clients_and_the_own_origin_pass()
    {
        using var x = XvfbServer.Start(640, 480);
        using var app = ApplianceProcess.Start(x, new Dictionary<string, string?> { ["SANDBOX_ALLOW_ORIGINS"] = "http://trusted.example:3000" });
        using var gw = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{app.GatewayPort}"), Timeout = TimeSpan.FromSeconds(60) };
        var action = """{"action":"mouse_move","coordinate":[33,44]}""";
        var own = $"http://127.0.0.1:{app.Port}";
        int refused = 0;

        async Task Expect(HttpClient http, HttpStatusCode expected, string method, string path, string? body = null, string? type = "application/json",
            params (string, string)[] headers)
        {
            using var req = new HttpRequestMessage(new HttpMethod(method), path);
            if (body is not null)
            {
                req.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
                if (type is not null) req.Content.Headers.TryAddWithoutValidation("Content-Type", type);
            }
            foreach (var (k, v) in headers)
                if (k == "Host") req.Headers.Host = v; else req.Headers.TryAddWithoutValidation(k, v);
            using var r = await http.SendAsync(req);
            var text = await r.Content.ReadAsStringAsync();
            Assert.True(r.StatusCode == expected, $"{method} {path} {string.Join(", ", headers)} type={type}: {(int)r.StatusCode} {text}");
            if ((int)expected >= 400)
            {
                var e = JsonDocument.Parse(text).RootElement;
                Assert.False(string.IsNullOrEmpty(e.GetProperty("message").GetString()));
                refused++;
            }
        }

        // DNS rebinding: a name that is not this machine's, on both ports; IP literals and localhost pass.
        await Expect(app.Http, HttpStatusCode.Forbidden, "GET", "/screenshot", headers: ("Host", "evil.example.com:" + app.Port));
        await Expect(gw, HttpStatusCode.Forbidden, "GET", "/api", headers: ("Host", "evil.example.com"));
        await Expect(gw, HttpStatusCode.Forbidden, "POST", "/api/kernels", "{}", headers: ("Host", "evil.example.com:8888"));
        await Expect(app.Http, HttpStatusCode.OK, "GET", "/screen_size", headers: ("Host", "localhost:" + app.Port));
        await Expect(gw, HttpStatusCode.OK, "GET", "/api", headers: ("Host", "[::1]:8888"));

        // Origins: foreign refused on every method and on the WebSocket upgrades; own and configured pass.
        foreach (var origin in new[] { "http://evil.example.com", "null", "http://127.0.0.1:1", "http://localhost:" + app.Port + ".evil.com" })
        {
            await Expect(app.Http, HttpStatusCode.Forbidden, "POST", "/computer/action", action, headers: ("Origin", origin));
            await Expect(app.Http, HttpStatusCode.Forbidden, "GET", "/screenshot", headers: ("Origin", origin));
            await Expect(gw, HttpStatusCode.Forbidden, "POST", "/api/kernels", "{}", headers: ("Origin", origin));
        }
        await Expect(app.Http, HttpStatusCode.Forbidden, "GET", "/record?mode=status", headers: ("Sec-Fetch-Site", "cross-site"));
        await Expect(app.Http, HttpStatusCode.Forbidden, "GET", "/view/stream", headers: ("Origin", "http://evil.example.com"));
        await Expect(app.Http, HttpStatusCode.OK, "POST", "/computer/action", action, headers: ("Origin", own));
        await Expect(app.Http, HttpStatusCode.OK, "POST", "/computer/action", action, headers: ("Origin", "http://trusted.example:3000"));

        // Simple bodies (what a page can send without a preflight) are 415; JSON, or no type at all (agents' clients), pass.
        foreach (var type in new[] { "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x" })
        {
            await Expect(app.Http, HttpStatusCode.UnsupportedMediaType, "POST", "/computer/action", action, type);
            await Expect(gw, HttpStatusCode.UnsupportedMediaType, "POST", "/api/kernels", "{}", type);
        }
        await Expect(app.Http, HttpStatusCode.OK, "POST", "/computer/action", action, type: null);
        Assert.Equal((33, 44), x.PointerPosition());

        // /record: a browser (Sec-Fetch-*) may not start a recording with GET; POST JSON starts and stops it.
        await Expect(app.Http, HttpStatusCode.Forbidden, "GET", "/record?mode=start", headers: ("Sec-Fetch-Site", "same-origin"));
        await Expect(app.Http, HttpStatusCode.OK, "POST", "/record", """{"mode":"start","video":false}""");
        await Expect(app.Http, HttpStatusCode.OK, "POST", "/record", """{"mode":"stop"}""");

        // The overflow found by the review: a 400, not a 500.
        await Expect(app.Http, HttpStatusCode.BadRequest, "GET", "/screenshot?region=2147483647,0,10,10");
        Figures.Report(output, $"security(origin/host): {refused} requests with a foreign Host, Origin, Sec-Fetch-Site or simple body refused (403/415), plain clients and the own origin served");
    }

    [Fact]
    public async Task Every_file_the_appliance_writes_is_private_and_a_foreign_SHARED_DIR_is_refused()
    {
        using var x = XvfbServer.Start(640, 480);
        using (var app = ApplianceProcess.Start(x))
        {
            await app.GetJsonAsync("/screenshot");
            await app.GetJsonAsync("/record?mode=start&fps=5");
            var id = await Kernels.StartAsync(app);
            await using (var c = await Kernels.ConnectAsync(app, id))
                await c.ExecuteAsync("print('hello')");
            await Task.Delay(1500);
            await app.GetJsonAsync("/record?mode=stop");
            app.Stop();

            var files = Directory.EnumerateFiles(app.SharedDir, "*", SearchOption.AllDirectories).ToList();
            Assert.Contains(files, f => f.EndsWith(".png", StringComparison.Ordinal));
            Assert.Contains(files, f => f.EndsWith(".mp4", StringComparison.Ordinal));
            Assert.Contains(files, f => f.Contains("actions-", StringComparison.Ordinal));
            Assert.Contains(files, f => f.EndsWith("jupyter-kernel.log", StringComparison.Ordinal));
            foreach (var f in files)
                Assert.True((File.GetUnixFileMode(f) & (UnixFileMode)0x3F) == 0, $"{f} is {Convert.ToString((int)File.GetUnixFileMode(f), 8)}");
            foreach (var d in Directory.EnumerateDirectories(app.SharedDir, "*", SearchOption.AllDirectories).Append(app.SharedDir))
                Assert.True((File.GetUnixFileMode(d) & (UnixFileMode)0x3F) == 0, $"{d} is {Convert.ToString((int)File.GetUnixFileMode(d), 8)}");
            Figures.Report(output, $"security(files): {files.Count} files under SHARED_DIR, every one owner-only");
        }

        // A SHARED_DIR owned by someone else (pre-created in /tmp by another user) stops the appliance at start.
        var foreign = Directory.CreateTempSubdirectory("sandbox-foreign-").FullName;
        try
        {
            Processes.Check("chown", ["65534:65534", foreign]);
            var (code, _, stderr) = RunBinary(new() { ["SHARED_DIR"] = foreign, ["PORT"] = Processes.FreeTcpPort().ToString() });
            Assert.Equal(2, code);
            Assert.Contains("belongs to uid 65534", stderr);
        }
        finally { Directory.Delete(foreign, recursive: true); }
    }

    [Fact]
    public async Task Kernel_code_cannot_read_the_token_from_the_appliance()
    {
        const string token = "t0ken-that-kernels-must-not-see-42";
        using var app = ApplianceProcess.Start(null, new Dictionary<string, string?> { ["SANDBOX_TOKEN"] = token });
        app.Http.DefaultRequestHeaders.Authorization = new("Bearer", token);
        using var gw = new HttpClient { Timeout = TimeSpan.FromSeconds(120) };
        gw.DefaultRequestHeaders.Authorization = new("token", token);
        using var created = await gw.PostAsync($"http://127.0.0.1:{app.GatewayPort}/api/kernels", null);
        var id = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!;
        await using var c = await JupyterWsClient.ConnectAsync(Kernels.ChannelsUrl(app, id) + "?token=" + token);
        // Every ancestor's environment and memory-mapped environment, and our own.
        var code = """
            import os
            found = []
            pid = os.getpid()
            while pid > 1:
                for name in ('environ', 'cmdline'):
                    try:
                        with open(f'/proc/{pid}/{name}', 'rb') as f:
                            if b'TOKEN_MARK' in f.read(): found.append(f'{pid}/{name}')
                    except OSError as e:
                        pass
                with open(f'/proc/{pid}/stat') as f:
                    pid = int(f.read().rsplit(')', 1)[1].split()[1])
            found += [k for k, v in os.environ.items() if 'TOKEN_MARK' in v]
            print('FOUND', found)
            """.Replace("TOKEN_MARK", token);
        var text = JupyterWsClient.StreamText(await c.ExecuteAsync(code));
        Assert.Contains("FOUND []", text);
        Figures.Report(output, "security(token): kernel code found the token in no ancestor's /proc environ or cmdline, nor in its own environment");
    }

    private static async Task<int> KernelCount(ApplianceProcess app)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        var list = JsonDocument.Parse(await http.GetStringAsync($"http://127.0.0.1:{app.GatewayPort}/api/kernels")).RootElement;
        return list.GetArrayLength();
    }

    private static (int Code, string Stdout, string Stderr) RunBinary(Dictionary<string, string?> env) =>
        Processes.Run(Repo.Binary, [], env, timeoutMs: 30_000);

    private static JsonElement RunAttacker(string rest, string gateway, string kernelId)
    {
        var dir = BrowserRun.ScriptDir;
        if (!Directory.Exists(Path.Combine(dir, "node_modules", "playwright-core")))
            throw new InvalidOperationException($"playwright-core is not installed: run `npm ci` in {dir} (./test.sh does)");
        var psi = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = dir };
        foreach (var a in new[] { "attacker.mjs", rest, gateway, kernelId }) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(180_000)) { p.Kill(true); throw new TimeoutException("attacker.mjs did not finish: " + stderr.Result); }
        var line = stdout.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault()
            ?? throw new InvalidOperationException($"attacker.mjs printed nothing (exit {p.ExitCode}): {stderr.Result}");
        return JsonDocument.Parse(line).RootElement.Clone();
    }
}
