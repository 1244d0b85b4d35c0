using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using Sandbox.E2E.Infrastructure;
using Sandbox.Testing;
using Xunit.Abstractions;

namespace Sandbox.E2E.Reliability;

/// <summary>
/// Random and mutated input against the published binary, from a fixed seed so a failure replays: query strings
/// on every GET endpoint, JSON bodies around the real action vocabulary (short durations, small screen, private
/// Xvfb: the actions really run), broken and oversized bodies, path traversal. Never a 5xx (but 503/507, which
/// are answers), never a hang, and the process answers /health at the end.
/// </summary>
[Collection("Reliability")]
public sealed class FuzzTests(ITestOutputHelper output)
{
    private const int Seed = 20261126;
    private const int MaxBody = 65536;
    private static readonly TimeSpan PerRequest = TimeSpan.FromSeconds(15);

    private static readonly string[] GetPaths = ["/screenshot", "/record", "/cursor_position", "/screen_size", "/health"];
    private static readonly string[] QueryKeys =
        ["method", "format", "quality", "cursor", "annotate", "region", "max_width", "max_height", "response", "mode", "fps",
         "codec", "video", "scale", "x", "", "token", "region[]", "%00", "Format", "response "];
    private static readonly string[] Interesting =
        ["", "0", "-1", "1", "2", "10", "99", "100", "101", "65535", "65536", "2147483647", "2147483648", "-2147483649",
         "99999999999999999999", "1e309", "NaN", "Infinity", "-0", "0x10", "1.5", " 5", "true", "false", "TRUE", "yes",
         "png", "jpeg", "jpg", "gif", "json", "image", "base64", "pyautogui", "pillow", "start", "stop", "status",
         "h264", "mpeg4", "auto", "vp9", "0,0,10,10", "0,0,0,0", "-5,-5,10,10", "0,0,99999,99999", "1,2,3", "1,2,3,4,5",
         "a,b,c,d", ",,,", "../../../../etc/passwd", "..%2f..%2fetc%2fpasswd", "%", "%zz", "%00", "%ff%fe", "\u00e9\u20ac",
         "\U0001F600", "<script>", "'; DROP TABLE x; --", new string('9', 400), new string('a', 4000)];

    private static readonly string[] ActionTemplates =
    [
        """{"action":"mouse_move","coordinate":[10,10]}""",
        """{"action":"left_click","coordinate":[20,30]}""",
        """{"action":"right_click"}""",
        """{"action":"double_click","coordinate":[5,5],"text":"shift"}""",
        """{"action":"left_click_drag","start_coordinate":[1,1],"coordinate":[30,30]}""",
        """{"action":"left_mouse_down","coordinate":[3,3]}""",
        """{"action":"left_mouse_up"}""",
        """{"action":"scroll","scroll_direction":"down","scroll_amount":2,"coordinate":[50,50]}""",
        """{"action":"key","text":"ctrl+a Delete"}""",
        """{"action":"type","text":"ab\u00e9\n"}""",
        """{"action":"hold_key","text":"shift","duration":0.01}""",
        """{"action":"wait","duration":0.01}""",
        """{"action":"cursor_position"}""",
        """{"action":"screenshot","format":"jpeg","max_width":64}""",
        """{"action":"zoom","region":[0,0,40,30]}""",
        """{"action_type":"CLICK","x":12,"y":14,"button":"left","num_clicks":1}""",
        """{"action_type":"MOVE_TO","parameters":{"x":7,"y":9}}""",
        """{"action_type":"SCROLL","dx":0,"dy":1}""",
        """{"action_type":"TYPING","text":"x"}""",
        """{"action_type":"HOTKEY","keys":["ctrl","c"]}""",
        """{"action_type":"PRESS","key":"enter"}""",
        """{"action_type":"KEY_DOWN","key":"a"}""",
        """{"action_type":"WAIT","seconds":0.01}""",
        """{"action":"mouse_move","coordinate":[10,10],"max_width":320,"screenshot_after":{"max_width":32}}""",
    ];

    private static readonly string[] JsonJunk =
        ["null", "true", "0", "-1", "1e400", "\"\"", "\"x\"", "[]", "{}", "[[[[[]]]]]", "[1,2]", "[1,2,3]", "[-5,-5]",
         "[100000,100000]", "[1.5,2.5]", "[\"1\",\"2\"]", "\"\\u0000\"", "\"ctrl+alt+shift+super+a\"", "\"NoSuchKey\"",
         "\"\\ud800\"", "2147483648", "0.000001", "-0.0", "{\"x\":1}", "\"up\"", "\"sideways\"", "99999", "\"Return Return Return\""];

    [Fact]
    public async Task Thousands_of_random_inputs_never_get_a_server_error_or_a_hang()
    {
        using var x = XvfbServer.Start(320, 240);
        using var app = ApplianceProcess.Start(x, new Dictionary<string, string?>
        {
            ["SANDBOX_MAX_BODY_BYTES"] = MaxBody.ToString(),
            ["SANDBOX_ACTION_MAX_DURATION_MS"] = "20",
            ["SANDBOX_ACTION_OSWORLD_WAIT_MS"] = "5",
            ["SANDBOX_ACTION_MAX_REPEAT"] = "5",
            ["SANDBOX_ACTION_MAX_TEXT"] = "64",
            ["SANDBOX_ACTION_DRAG_STEPS"] = "2",
            ["SANDBOX_ACTION_KEYMAP_RESTORE_MS"] = "0",
            ["SANDBOX_ACTION_QUEUE_MS"] = "10000",
            ["SANDBOX_SCREENSHOT_RETENTION"] = "20",
            ["SANDBOX_RECORD_STOP_TIMEOUT_MS"] = "3000",
        });
        var count = int.TryParse(Environment.GetEnvironmentVariable("SANDBOX_FUZZ_INPUTS"), out var n) ? n : 3000;
        var failures = new List<string>();
        int tried = 0, serverErrors = 0, hangs = 0, status4xx = 0, status2xx = 0;
        var sw = Stopwatch.StartNew();

        async Task One(HttpRequestMessage req, string what)
        {
            using var cts = new CancellationTokenSource(PerRequest);
            Interlocked.Increment(ref tried);
            try
            {
                using var r = await app.Http.SendAsync(req, cts.Token);
                var body = await r.Content.ReadAsStringAsync(cts.Token);
                var code = (int)r.StatusCode;
                if (code is >= 200 and < 300) Interlocked.Increment(ref status2xx);
                else if (code is >= 400 and < 500) Interlocked.Increment(ref status4xx);
                // 503 (display busy/lost) and 507 (disk full) are answers; 500 and anything unexpected are bugs.
                if (code >= 500 && code is not 503 and not 507 || code is >= 300 and < 400)
                {
                    Interlocked.Increment(ref serverErrors);
                    lock (failures) failures.Add($"{what} → {code} {Truncate(body)}");
                }
                else if (code >= 400 && req.Method != HttpMethod.Head && body.Length > 0 && !IsErrorJson(body))
                {
                    lock (failures) failures.Add($"{what} → {code} without a JSON error body: {Truncate(body)}");
                }
                if (body.Contains("root:x:0:0", StringComparison.Ordinal))
                    lock (failures) failures.Add($"{what} → leaked /etc/passwd");
            }
            catch (OperationCanceledException)
            {
                Interlocked.Increment(ref hangs);
                lock (failures) failures.Add($"{what} → no answer within {PerRequest.TotalSeconds} s");
            }
            catch (HttpRequestException e)
            {
                Interlocked.Increment(ref serverErrors);
                lock (failures) failures.Add($"{what} → connection failed: {e.Message}");
            }
            finally { req.Dispose(); }
        }

        // Four clients, each with its own seeded generator: the inputs are fixed, only their interleaving varies.
        var workers = Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
        {
            var rnd = new Random(Seed + w);
            for (var i = w; i < count; i += 4)
            {
                var (req, what) = Next(rnd, i);
                await One(req, what);
            }
        })).ToArray();
        await Task.WhenAll(workers);

        // Named-file inputs: traversal through every route that takes a name, raw and encoded.
        foreach (var path in TraversalPaths())
            await One(new HttpRequestMessage(HttpMethod.Get, path), "GET " + path);
        // Bodies past SANDBOX_MAX_BODY_BYTES, with and without a Content-Length.
        foreach (var chunked in new[] { false, true })
            foreach (var target in new[] { "/computer/action", "/computer/actions" })
            {
                var big = "{\"action\":\"type\",\"text\":\"" + new string('a', MaxBody * 2) + "\"}";
                var req = new HttpRequestMessage(HttpMethod.Post, target)
                {
                    Content = chunked ? new ChunkedContent(Encoding.UTF8.GetBytes(big)) : new StringContent(big, Encoding.UTF8, "application/json"),
                };
                using var cts = new CancellationTokenSource(PerRequest);
                using var r = await app.Http.SendAsync(req, cts.Token);
                tried++;
                var body = await r.Content.ReadAsStringAsync(cts.Token);
                Assert.True(r.StatusCode == HttpStatusCode.RequestEntityTooLarge, $"{target} {(chunked ? "chunked" : "")} → {(int)r.StatusCode} {Truncate(body)}");
                Assert.True(IsErrorJson(body), body);
            }

        using (var stop = await app.Http.GetAsync("/record?mode=stop")) Assert.True((int)stop.StatusCode < 500);
        Assert.False(app.HasExited, "the appliance died:\n" + app.Output);
        var health = await app.GetJsonAsync("/health");
        Assert.Equal("ok", health.GetProperty("status").GetString());
        Figures.Report(output, $"fuzz: {tried} inputs tried (seed {Seed}) in {sw.Elapsed.TotalSeconds:0.0} s, {status2xx} 2xx, {status4xx} 4xx, " +
            $"{serverErrors} server errors, {hangs} hangs, alive: {!app.HasExited}");
        Assert.True(failures.Count == 0, $"{failures.Count} failures:\n" + string.Join("\n", failures.Take(40)) + "\n--- log tail:\n" + Tail(app.Output));
    }

    [Fact]
    public async Task The_gateway_port_survives_traversal_and_mutated_bodies()
    {
        using var app = ApplianceProcess.Start(null, new Dictionary<string, string?>
        {
            ["KG_MAX_KERNELS"] = "1",
            ["SANDBOX_KG_MAX_BODY_BYTES"] = MaxBody.ToString(),
        });
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{app.GatewayPort}"), Timeout = PerRequest };
        var rnd = new Random(Seed);
        int tried = 0, serverErrors = 0;
        var failures = new List<string>();
        async Task One(HttpRequestMessage req, string what)
        {
            tried++;
            try
            {
                using var r = await http.SendAsync(req);
                var body = await r.Content.ReadAsStringAsync();
                if ((int)r.StatusCode >= 500)
                {
                    serverErrors++;
                    failures.Add($"{what} → {(int)r.StatusCode} {Truncate(body)}");
                }
                if (body.Contains("root:x:0:0", StringComparison.Ordinal) || body.Contains("\"key\"", StringComparison.Ordinal))
                    failures.Add($"{what} → leaked a file: {Truncate(body)}");
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                serverErrors++;
                failures.Add($"{what} → {e.GetType().Name}: {e.Message}");
            }
            finally { req.Dispose(); }
        }

        string[] traversal = ["..%2f..%2f..%2f..%2fetc%2fpasswd", "%2e%2e%2f%2e%2e%2fetc%2fpasswd", "..", ".", "kernel.json", "%2e%2e",
            "..%5c..%5cetc%5cpasswd", "logo-64x64.png%00.json", "%2fetc%2fpasswd"];
        foreach (var t in traversal)
            foreach (var route in new[] { $"/kernelspecs/python3/{t}", $"/kernelspecs/{t}/logo-64x64.png", $"/api/kernelspecs/{t}", $"/api/kernels/{t}",
                         $"/api/sessions/{t}", $"/kernelspecs/python3/../../../../etc/passwd", $"/api/kernels/{t}/channels" })
                await One(new HttpRequestMessage(HttpMethod.Get, route), "GET " + route);

        string[] bodies =
        [
            """{"name":"../../../../etc"}""", """{"name":"python3","path":"../../../../etc"}""", """{"name":"python3","path":"/etc/passwd"}""",
            """{"env":{"LD_PRELOAD":"/tmp/x.so"}}""", """{"env":"x"}""", """{"env":{"KERNEL_X":5}}""", """{"name":"\ud800"}""", "[]", "null", "",
            "{", "{\"name\":" + new string('[', 3000), """{"kernel":{"name":"nope"},"path":"../x","type":"notebook"}""", """{"kernel":"x"}""",
        ];
        for (var i = 0; i < 300; i++)
        {
            var target = rnd.Next(3) switch { 0 => "/api/kernels", 1 => "/api/sessions", _ => "/api/sessions/" + Guid.NewGuid() };
            var method = target.StartsWith("/api/sessions/", StringComparison.Ordinal) ? HttpMethod.Patch : HttpMethod.Post;
            var body = bodies[rnd.Next(bodies.Length)];
            if (rnd.Next(3) == 0 && body.Length > 1) body = body[..rnd.Next(1, body.Length)];
            await One(new HttpRequestMessage(method, target) { Content = new StringContent(body, Encoding.UTF8, "application/json") },
                $"{method} {target} {Truncate(body, 200)}");
        }
        var big = new string(' ', MaxBody * 2) + "{}";
        using (var r = await http.PostAsync("/api/kernels", new StringContent(big, Encoding.UTF8, "application/json")))
        {
            tried++;
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, r.StatusCode);
        }

        Assert.False(app.HasExited, app.Output);
        using (var r = await http.GetAsync("/api")) Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Figures.Report(output, $"fuzz(gateway): {tried} inputs tried (seed {Seed}), {serverErrors} server errors, 0 files leaked, alive: {!app.HasExited}");
        Assert.True(failures.Count == 0, $"{failures.Count} failures:\n" + string.Join("\n", failures.Take(40)) + "\n--- log tail:\n" + Tail(app.Output));
    }

    private static (HttpRequestMessage, string) Next(Random rnd, int i)
    {
        switch (rnd.Next(10))
        {
            case < 4:
            {
                var path = GetPaths[rnd.Next(GetPaths.Length)] + "?" + RandomQuery(rnd);
                // Keep real recordings rare: each start runs ffmpeg.
                if (path.Contains("mode=start", StringComparison.Ordinal) && rnd.Next(8) != 0) path = path.Replace("mode=start", "mode=stop");
                var method = rnd.Next(20) == 0 ? HttpMethod.Head : HttpMethod.Get;
                return (new HttpRequestMessage(method, path), $"#{i} {method} {path}");
            }
            default:
            {
                var target = rnd.Next(2) == 0 ? "/computer/action" : "/computer/actions";
                var body = target == "/computer/action" ? MutatedAction(rnd) : MutatedBatch(rnd);
                var content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
                if (rnd.Next(10) != 0) content.Headers.ContentType = new("application/json");
                else if (rnd.Next(2) == 0) content.Headers.ContentType = new("text/plain");
                return (new HttpRequestMessage(HttpMethod.Post, target) { Content = content }, $"#{i} POST {target} {Truncate(body, 300)}");
            }
        }
    }

    private static string RandomQuery(Random rnd)
    {
        var parts = new List<string>();
        for (var k = rnd.Next(5); k >= 0; k--)
        {
            var key = rnd.Next(8) == 0 ? RandomText(rnd, 6) : QueryKeys[rnd.Next(QueryKeys.Length)];
            var value = rnd.Next(6) == 0 ? RandomText(rnd, 12) : Interesting[rnd.Next(Interesting.Length)];
            var raw = rnd.Next(5) == 0;  // sometimes unescaped, to reach the server's own query parsing
            parts.Add((raw ? key : Uri.EscapeDataString(key)) + (rnd.Next(10) == 0 ? "" : "=" + (raw ? value.Replace("#", "%23").Replace(" ", "%20") : Uri.EscapeDataString(value))));
        }
        return string.Join("&", parts);
    }

    private static string RandomText(Random rnd, int max)
    {
        var sb = new StringBuilder();
        for (var k = rnd.Next(max + 1); k > 0; k--)
            sb.Append(rnd.Next(4) switch
            {
                0 => (char)rnd.Next(0x20, 0x7F),
                1 => (char)rnd.Next(0x80, 0x800),
                2 => (char)rnd.Next(0x3000, 0xD7FF),
                _ => "?&=%,.[]{}\"\\/ \t"[rnd.Next(15)],
            });
        return sb.ToString();
    }

    private static string MutatedBatch(Random rnd)
    {
        var n = rnd.Next(1, 5);
        var actions = string.Join(",", Enumerable.Range(0, n).Select(_ => MutatedAction(rnd, raw: false)));
        var batch = rnd.Next(3) switch
        {
            0 => "[" + actions + "]",
            1 => "{\"actions\":[" + actions + "],\"screenshot_after\":" + (rnd.Next(2) == 0 ? "true" : "{\"max_width\":" + JsonJunk[rnd.Next(JsonJunk.Length)] + "}") + "}",
            _ => "{\"actions\":[" + actions + "]" + (rnd.Next(2) == 0 ? ",\"scale\":" + JsonJunk[rnd.Next(JsonJunk.Length)] : ",\"max_width\":160") + "}",
        };
        return rnd.Next(12) == 0 ? Corrupt(rnd, batch) : batch;
    }

    private static string MutatedAction(Random rnd, bool raw = true)
    {
        var template = ActionTemplates[rnd.Next(ActionTemplates.Length)];
        if (rnd.Next(6) == 0) return template;  // a valid action, as agents send them
        var doc = JsonDocument.Parse(template).RootElement;
        var fields = doc.EnumerateObject().Select(p => (p.Name, Value: p.Value.GetRawText())).ToList();
        for (var m = rnd.Next(1, 4); m > 0; m--)
        {
            switch (rnd.Next(6))
            {
                case 0 when fields.Count > 0: fields.RemoveAt(rnd.Next(fields.Count)); break;
                case 1 when fields.Count > 0:
                {
                    var k = rnd.Next(fields.Count);
                    fields[k] = (fields[k].Name, JsonJunk[rnd.Next(JsonJunk.Length)]);
                    break;
                }
                case 2:
                    fields.Add((new[] { "coordinate", "text", "duration", "scroll_amount", "scroll_direction", "start_coordinate", "region",
                        "action", "action_type", "x", "y", "button", "num_clicks", "keys", "key", "seconds", "delay_ms", "settle_ms",
                        "parameters", "screenshot_after", "max_width", "scale", "unknown" }[rnd.Next(23)], JsonJunk[rnd.Next(JsonJunk.Length)]));
                    break;
                case 3:
                {
                    var k = fields.FindIndex(f => f.Name is "coordinate" or "start_coordinate");
                    if (k >= 0) fields[k] = (fields[k].Name, $"[{rnd.Next(-50, 400)},{rnd.Next(-50, 300)}]");
                    break;
                }
                case 4:
                    fields.Add(("action", JsonSerializer.Serialize(new[] { "key", "type", "scroll", "zoom", "screenshot", "triple_click",
                        "middle_click", "teleport", "" }[rnd.Next(9)])));
                    break;
                default:
                    fields.Add(("text", JsonSerializer.Serialize(RandomText(rnd, 10))));
                    break;
            }
        }
        var json = "{" + string.Join(",", fields.Select(f => JsonSerializer.Serialize(f.Name) + ":" + f.Value)) + "}";
        return raw && rnd.Next(8) == 0 ? Corrupt(rnd, json) : json;
    }

    /// <summary>Structural damage: truncation, junk bytes, deep nesting, wrong top-level types.</summary>
    private static string Corrupt(Random rnd, string json) => rnd.Next(6) switch
    {
        0 => json[..rnd.Next(json.Length)],
        1 => json.Insert(rnd.Next(json.Length), ((char)rnd.Next(0, 0x80)).ToString()),
        2 => new string('[', 5000) + new string(']', 5000),
        3 => "{\"action\":" + new string('[', 200) + new string(']', 200) + "}",
        4 => "",
        _ => "\uFEFF" + json + "garbage",
    };

    private static IEnumerable<string> TraversalPaths()
    {
        foreach (var p in new[] { "../../../../etc/passwd", "..%2f..%2f..%2fetc%2fpasswd", "%2e%2e/%2e%2e/etc/passwd", "....//....//etc/passwd", "..\\..\\etc\\passwd" })
        {
            yield return "/" + p;
            yield return "/screenshots/" + p;
            yield return "/recordings/" + p;
            yield return "/screenshot?path=" + p;
            yield return "/record?mode=status&file=" + p;
        }
    }

    private static bool IsErrorJson(string body)
    {
        try
        {
            var e = JsonDocument.Parse(body).RootElement;
            return e.ValueKind == JsonValueKind.Object && (e.TryGetProperty("reason", out _) || e.TryGetProperty("status", out _));
        }
        catch (JsonException) { return false; }
    }

    private static string Truncate(string s, int max = 400) => s.Length <= max ? s : s[..max] + "…";

    private static string Tail(string s) => s.Length <= 4000 ? s : s[^4000..];

    /// <summary>A body without Content-Length, so the server only learns its size while reading.</summary>
    private sealed class ChunkedContent(byte[] data) : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => stream.WriteAsync(data).AsTask();
        protected override bool TryComputeLength(out long length) { length = 0; return false; }
    }
}
