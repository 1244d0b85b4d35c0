using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Sandbox.E2E.Infrastructure;
using Sandbox.Testing;
using static Sandbox.E2E.Recording.Rec;

namespace Sandbox.E2E.Recording;

/// <summary>The office scene on an Xvfb and an appliance with default settings (trajectories on, 1000 steps).</summary>
public sealed class TrajectoryFixture : SceneFixture
{
    public Rgb Scene { get; } = Rgb.Load(Repo.Scene("office.png"));
}

/// <summary>The same with <c>SANDBOX_RECORD_MAX_STEPS=2</c>.</summary>
public sealed class BoundedTrajectoryFixture() : SceneFixture(new Dictionary<string, string?> { ["SANDBOX_RECORD_MAX_STEPS"] = "2" });

/// <summary>
/// Trajectories on the published binary: while a recording runs, each /computer/action(s) request is a step; stop
/// leaves recordings/trajectory-&lt;ts&gt;/ in OSWorld's result-folder layout. The actions move the pointer over a
/// still scene, so the screen after each one differs from the scene exactly where the cursor is drawn: each step's
/// PNG must show the cursor at that step's point (and nowhere else), and equal a /screenshot taken right after it.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class TrajectoryTests(TrajectoryFixture f) : IClassFixture<TrajectoryFixture>
{
    // Far apart (the cursor glyph is < 32 px) and away from the screen's centre, where Xvfb starts the pointer.
    private static readonly (int X, int Y)[] s_points = [(300, 200), (1500, 250), (1600, 850), (250, 900)];

    private static async Task<JsonElement> Post(ApplianceProcess app, string path, string json)
    {
        using var content = new StringContent(json, Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var r = await app.Http.PostAsync(path, content);
        var body = await r.Content.ReadAsStringAsync();
        Assert.True(r.IsSuccessStatusCode, $"{path} {json} → {(int)r.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    private static string Move((int X, int Y) p) => $"{{\"action\":\"mouse_move\",\"coordinate\":[{p.X},{p.Y}]}}";

    private static async Task<Rgb> ScreenNow(ApplianceProcess app) =>
        Rgb.Decode(await app.Http.GetByteArrayAsync("/screenshot?annotate=false&response=image"));

    private static List<JsonElement> Lines(string path) =>
        File.ReadAllLines(path).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();

    /// <summary>Asserts the image differs from the scene only around <paramref name="p"/> (the cursor glyph), and there.</summary>
    private void AssertCursorOnlyAt(Rgb image, (int X, int Y) p, string what)
    {
        var diffs = image.Differences(f.Scene);
        Assert.True(diffs.Count > 0, $"{what}: no cursor drawn (the image equals the scene)");
        var box = Rgb.Bounds(diffs)!.Value;
        Assert.True(box.X >= p.X - 32 && box.Y >= p.Y - 32 && box.X + box.W <= p.X + 33 && box.Y + box.H <= p.Y + 33,
            $"{what}: changed pixels span {box}, not only around the pointer at {p}");
    }

    [Fact]
    public async Task Each_action_is_one_step_with_its_action_result_and_the_screen_after_it()
    {
        var app = f.App;
        f.X.MovePointer(960, 540);   // away from the points (another test of the class may have left it on one)
        var start = await Start(app, "video=true&fps=5");
        Assert.Equal("action_recording_started", start.GetProperty("action_recording_status").GetString());

        var sent = new List<string>();
        var after = new List<Rgb>();
        for (var i = 0; i < s_points.Length - 1; i++)
        {
            sent.Add(Move(s_points[i]));
            await Post(app, "/computer/action", sent[^1]);
            after.Add(await ScreenNow(app));
        }
        // A batch is one step (one request), its answer the batch's.
        var last = s_points[^1];
        sent.Add($"{{\"actions\":[{{\"action\":\"mouse_move\",\"coordinate\":[{last.X - 100},{last.Y}]}},{Move(last)}]}}");
        await Post(app, "/computer/actions", sent[^1]);
        after.Add(await ScreenNow(app));

        var status = await app.GetJsonAsync("/record?mode=status");
        Assert.Equal(s_points.Length, status.GetProperty("num_steps").GetInt32());
        var stop = await Stop(app);
        Assert.Equal(s_points.Length, stop.GetProperty("num_steps").GetInt32());
        Assert.False(stop.TryGetProperty("steps_dropped", out _));
        var relative = stop.GetProperty("trajectory_dir").GetString()!;
        Assert.Matches(@"^recordings/trajectory-\d{8}_\d{6}(_\d+)?$", relative);
        // Named like the recording's other files.
        var stamp = relative["recordings/trajectory-".Length..];
        Assert.Equal($"recordings/events-{stamp}.jsonl", stop.GetProperty("events_file").GetString());

        var dir = Path.Combine(app.SharedDir, relative);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(dir));
        Assert.Empty(Directory.GetDirectories(Path.Combine(app.SharedDir, "recordings"), ".trajectory-*"));
        var lines = Lines(Path.Combine(dir, "traj.jsonl"));
        Assert.Equal(s_points.Length, lines.Count);
        string? previous = null;
        for (var i = 0; i < lines.Count; i++)
        {
            var o = lines[i];
            var n = i + 1;
            Assert.Equal(["step_num", "action_timestamp", "action", "reward", "done", "info", "screenshot_file", "source", "result", "timestamp", "time"],
                o.EnumerateObject().Select(p => p.Name));
            Assert.Equal(n, o.GetProperty("step_num").GetInt32());
            var ts = o.GetProperty("action_timestamp").GetString()!;
            Assert.Matches(@"^\d{8}@\d{6}$", ts);
            if (previous is not null) Assert.True(string.CompareOrdinal(previous, ts) <= 0, $"timestamps run backwards: {previous} then {ts}");
            previous = ts;
            Assert.Equal(sent[i], o.GetProperty("action").GetRawText());   // as the client sent it
            Assert.Equal(0, o.GetProperty("reward").GetDouble());
            Assert.False(o.GetProperty("done").GetBoolean());
            Assert.Empty(o.GetProperty("info").EnumerateObject());
            Assert.Equal($"step_{n}_{ts}.png", o.GetProperty("screenshot_file").GetString());
            Assert.Equal("computer", o.GetProperty("source").GetString());
            var result = o.GetProperty("result");
            Assert.Equal("ok", result.GetProperty("status").GetString());
            Assert.Equal([1920, 1080], result.GetProperty("screen_size").EnumerateArray().Select(e => e.GetInt32()));
            var acted = i < lines.Count - 1 ? result.GetProperty("screen_coordinate") : result.GetProperty("results")[1].GetProperty("screen_coordinate");
            Assert.Equal([s_points[i].X, s_points[i].Y], acted.EnumerateArray().Select(e => e.GetInt32()));
            Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$", o.GetProperty("timestamp").GetString()!);
            Assert.True(o.GetProperty("time").GetDouble() >= 0);

            var png = Path.Combine(dir, o.GetProperty("screenshot_file").GetString()!);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(png));
            var image = Rgb.Load(png);
            Assert.Equal((1920, 1080), (image.Width, image.Height));
            // The screen after this action: the cursor at this step's point only, pixel for pixel what /screenshot showed next.
            AssertCursorOnlyAt(image, s_points[i], $"step {n}");
            Assert.Empty(image.Differences(after[i]));
        }
        // step_0.png: the screen when the recording started, before any of the points was visited.
        var initial = Rgb.Load(Path.Combine(dir, "step_0.png"));
        foreach (var p in s_points)
            Assert.DoesNotContain(initial.Differences(f.Scene), d => Math.Abs(d.X - p.X) <= 32 && Math.Abs(d.Y - p.Y) <= 32);

        // OSWorld's recording.mp4 beside the steps: the recording's video itself (a hard link).
        if (stop.GetProperty("screen_recording_file").GetString() is { } video)
            Assert.Equal(File.ReadAllBytes(Path.Combine(app.SharedDir, video)), File.ReadAllBytes(Path.Combine(dir, "recording.mp4")));
        Assert.Equal(lines.Count + 2 + (stop.GetProperty("screen_recording_file").ValueKind == JsonValueKind.String ? 1 : 0),
            Directory.GetFiles(dir).Length);   // traj.jsonl, step_0.png, one PNG per step, recording.mp4
    }

    [Fact]
    public async Task Actions_outside_a_recording_are_not_steps_and_a_recording_without_actions_leaves_no_trajectory()
    {
        var app = f.App;
        await Post(app, "/computer/action", Move(s_points[0]));   // no recording runs
        await Start(app);
        var idle = await Stop(app);
        Assert.False(idle.TryGetProperty("trajectory_dir", out _));
        Assert.Equal(0, idle.GetProperty("num_steps").GetInt32());
        var recordings = Path.Combine(app.SharedDir, "recordings");
        var stamp = idle.GetProperty("events_file").GetString()!["recordings/events-".Length..^".jsonl".Length];
        Assert.False(Directory.Exists(Path.Combine(recordings, "trajectory-" + stamp)));
        Assert.False(Directory.Exists(Path.Combine(recordings, ".trajectory-" + stamp)));

        await Post(app, "/computer/action", Move(s_points[1]));   // between recordings
        await Start(app);
        await Post(app, "/computer/action", Move(s_points[2]));
        var stop = await Stop(app);
        await Post(app, "/computer/action", Move(s_points[3]));   // after the stop
        var lines = Lines(Path.Combine(app.SharedDir, stop.GetProperty("trajectory_dir").GetString()!, "traj.jsonl"));
        Assert.Equal([Move(s_points[2])], lines.Select(l => l.GetProperty("action").GetRawText()));
        Assert.Equal(1, stop.GetProperty("num_steps").GetInt32());
    }

    /// <summary>One JSON-RPC request to /mcp (answered as JSON or as one SSE event).</summary>
    private static async Task<(HttpResponseMessage Response, JsonElement Body)> Mcp(ApplianceProcess app, string body, string? session)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/mcp") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Accept.ParseAdd("application/json, text/event-stream");
        if (session is not null) request.Headers.Add("Mcp-Session-Id", session);
        var response = await app.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        if (text.StartsWith("event:", StringComparison.Ordinal))
            text = text.Split('\n').Last(l => l.StartsWith("data: ", StringComparison.Ordinal))["data: ".Length..];
        Assert.True(response.IsSuccessStatusCode, $"/mcp {body} → {(int)response.StatusCode}: {text}");
        return (response, text.TrimStart().StartsWith('{') ? JsonDocument.Parse(text).RootElement.Clone() : default);
    }

    [Fact]
    public async Task The_mcp_computer_tool_is_a_step_too_and_the_trajectory_reads_back_as_recording_resources()
    {
        var app = f.App;
        var (init, _) = await Mcp(app, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{\"protocolVersion\":\"2025-11-25\"," +
                                       "\"capabilities\":{},\"clientInfo\":{\"name\":\"traj\",\"version\":\"1\"}}}", null);
        var session = init.Headers.GetValues("Mcp-Session-Id").Single();
        await Mcp(app, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}", session);

        await Start(app);
        var arguments = Move(s_points[1]);
        var (_, call) = await Mcp(app, $"{{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{{\"name\":\"computer\",\"arguments\":{arguments}}}}}", session);
        Assert.False(call.GetProperty("result").TryGetProperty("isError", out var isError) && isError.GetBoolean(), call.ToString());
        var stop = await Stop(app);
        var relative = stop.GetProperty("trajectory_dir").GetString()!;
        var line = Assert.Single(Lines(Path.Combine(app.SharedDir, relative, "traj.jsonl")));
        Assert.Equal("mcp", line.GetProperty("source").GetString());
        Assert.Equal(arguments, line.GetProperty("action").GetRawText());
        Assert.Equal("ok", line.GetProperty("result").GetProperty("status").GetString());
        AssertCursorOnlyAt(Rgb.Load(Path.Combine(app.SharedDir, relative, line.GetProperty("screenshot_file").GetString()!)), s_points[1], "mcp step");

        // Listed and read over MCP as the recording's other files are.
        var uri = "recording://" + relative["recordings/".Length..] + "/";
        var (_, list) = await Mcp(app, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"resources/list\"}", session);
        Assert.Contains(uri + "traj.jsonl", list.GetProperty("result").GetProperty("resources").EnumerateArray().Select(r => r.GetProperty("uri").GetString()));
        var png = uri + line.GetProperty("screenshot_file").GetString();
        var (_, read) = await Mcp(app, $"{{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"resources/read\",\"params\":{{\"uri\":\"{png}\"}}}}", session);
        var contents = read.GetProperty("result").GetProperty("contents")[0];
        Assert.Equal("image/png", contents.GetProperty("mimeType").GetString());
        Assert.Equal(File.ReadAllBytes(Path.Combine(app.SharedDir, relative, line.GetProperty("screenshot_file").GetString()!)),
            Convert.FromBase64String(contents.GetProperty("blob").GetString()!));
    }

    [Fact]
    public async Task A_trajectory_cut_short_by_sigkill_is_published_at_the_next_start()
    {
        using var x = XvfbServer.Start(800, 600);
        var shared = Directory.CreateTempSubdirectory("sandbox-e2e-traj-kill-").FullName;
        try
        {
            string stamp;
            using (var app = ApplianceProcess.Start(x, sharedDir: shared))
            {
                var start = await Start(app);
                stamp = start.GetProperty("events_file").GetString()!["recordings/events-".Length..^".jsonl".Length];
                await Post(app, "/computer/action", Move((100, 100)));
                await Post(app, "/computer/action", Move((500, 400)));
                app.Kill();
            }
            var recordings = Path.Combine(shared, "recordings");
            Assert.True(Directory.Exists(Path.Combine(recordings, ".trajectory-" + stamp)), "the private folder holds the steps so far");

            using var again = ApplianceProcess.Start(x, sharedDir: shared);
            var dir = Path.Combine(recordings, "trajectory-" + stamp);
            Eventually(() => Directory.Exists(dir), "recovery published the trajectory");
            var lines = Lines(Path.Combine(dir, "traj.jsonl"));
            Assert.Equal([Move((100, 100)), Move((500, 400))], lines.Select(l => l.GetProperty("action").GetRawText()));
            Assert.All(lines, l => Assert.True(File.Exists(Path.Combine(dir, l.GetProperty("screenshot_file").GetString()!))));
            Assert.False(Directory.Exists(Path.Combine(recordings, ".trajectory-" + stamp)));
        }
        finally
        {
            Directory.Delete(shared, recursive: true);
        }
    }

    [Fact]
    public async Task Steps_past_the_bound_are_counted_in_the_answer_and_not_written()
    {
        using var bounded = new BoundedTrajectoryFixture();
        var app = bounded.App;
        await Start(app);
        foreach (var p in s_points) await Post(app, "/computer/action", Move(p));
        var status = await app.GetJsonAsync("/record?mode=status");
        Assert.Equal((2, 2), (status.GetProperty("num_steps").GetInt32(), status.GetProperty("steps_dropped").GetInt32()));
        var stop = await Stop(app);
        Assert.Equal((2, 2), (stop.GetProperty("num_steps").GetInt32(), stop.GetProperty("steps_dropped").GetInt32()));
        Assert.Contains("SANDBOX_RECORD_MAX_STEPS", stop.GetProperty("message").GetString());
        var dir = Path.Combine(app.SharedDir, stop.GetProperty("trajectory_dir").GetString()!);
        var lines = Lines(Path.Combine(dir, "traj.jsonl"));
        // The first two steps are kept, whole: their lines and their screenshots.
        Assert.Equal([Move(s_points[0]), Move(s_points[1])], lines.Select(l => l.GetProperty("action").GetRawText()));
        Assert.Equal(new[] { "step_0.png", "traj.jsonl" }.Concat(lines.Select(l => l.GetProperty("screenshot_file").GetString()!)).Order(StringComparer.Ordinal),
            Directory.GetFiles(dir).Select(p => Path.GetFileName(p)).Order(StringComparer.Ordinal));
    }
}
