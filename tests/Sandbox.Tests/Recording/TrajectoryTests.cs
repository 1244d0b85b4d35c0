using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Sandbox.Mcp;
using Sandbox.Recording;

namespace Sandbox.Tests.Recording;

/// <summary>traj.jsonl lines, the trajectory folder a recording leaves, and how the MCP resources reach it.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class TrajectoryTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sandbox-traj-").FullName;
    private int _shots;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A fake screen: each screenshot is a distinct small blob.</summary>
    private void Shoot(Stream png)
    {
        var n = Interlocked.Increment(ref _shots);
        png.Write(Encoding.ASCII.GetBytes($"PNG#{n}"));
    }

    private static readonly DateTime s_start = new(2026, 11, 29, 23, 4, 5, DateTimeKind.Utc);

    private static RecordingClock Clock() => new(s_start, System.Diagnostics.Stopwatch.GetTimestamp());

    [Fact]
    public void A_line_has_osworlds_keys_in_order_then_ours_with_action_and_result_embedded_as_json()
    {
        var utc = s_start.AddTicks(1234567);
        var line = TrajectoryLine.Write(3, utc, 0.1234567, "computer", "{\"action\": \"left_click\", \"coordinate\": [10, 20], \"text\": \"a+b ü\"}",
            "{\"status\":\"ok\",\"screen_size\":[1920,1080]}", "step_3_20261129@230405.png", null);
        var text = Encoding.UTF8.GetString(line);
        Assert.EndsWith("}\n", text);
        Assert.Single(text.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("a+b ü", text);   // data file: not HTML-escaped
        var o = JsonDocument.Parse(text).RootElement;
        Assert.Equal(["step_num", "action_timestamp", "action", "reward", "done", "info", "screenshot_file", "source", "result", "timestamp", "time"],
            o.EnumerateObject().Select(p => p.Name));
        Assert.Equal(3, o.GetProperty("step_num").GetInt32());
        Assert.Equal("20261129@230405", o.GetProperty("action_timestamp").GetString());
        Assert.Equal("left_click", o.GetProperty("action").GetProperty("action").GetString());
        Assert.Equal(20, o.GetProperty("action").GetProperty("coordinate")[1].GetInt32());
        Assert.Equal(0, o.GetProperty("reward").GetDouble());
        Assert.False(o.GetProperty("done").GetBoolean());
        Assert.Equal(JsonValueKind.Object, o.GetProperty("info").ValueKind);
        Assert.Empty(o.GetProperty("info").EnumerateObject());
        Assert.Equal("step_3_20261129@230405.png", o.GetProperty("screenshot_file").GetString());
        Assert.Equal("computer", o.GetProperty("source").GetString());
        Assert.Equal(1080, o.GetProperty("result").GetProperty("screen_size")[1].GetInt32());
        Assert.Equal("2026-11-29T23:04:05.123456+00:00", o.GetProperty("timestamp").GetString());
        Assert.Equal(0.123457, o.GetProperty("time").GetDouble());
    }

    [Theory]
    [InlineData("\"DONE\"", true, "done")]
    [InlineData("\"FAIL\"", true, "fail")]
    [InlineData("{\"action_type\": \"DONE\"}", true, "done")]
    [InlineData("{\"action_type\": \"FAIL\"}", true, "fail")]
    [InlineData("{\"action\": \"type\", \"text\": \"DONE\"}", false, null)]
    [InlineData("\"WAIT\"", false, null)]
    public void Osworlds_done_and_fail_actions_end_the_episode(string action, bool done, string? info)
    {
        var o = JsonDocument.Parse(TrajectoryLine.Write(1, s_start, 0, "osworld", action, "{}", "x.png", null)).RootElement;
        Assert.Equal(done, o.GetProperty("done").GetBoolean());
        Assert.Equal(info is null ? [] : [info], o.GetProperty("info").EnumerateObject().Select(p => p.Name));
        if (info is not null) Assert.True(o.GetProperty("info").GetProperty(info).GetBoolean());
    }

    [Theory]
    [InlineData("pyautogui.click(10, 20)")]
    [InlineData("")]
    [InlineData("{\"a\": 1} {\"b\": 2}")]
    [InlineData("{\"a\": ")]
    public void Text_that_is_not_one_json_value_is_kept_as_a_string(string action)
    {
        var o = JsonDocument.Parse(TrajectoryLine.Write(1, s_start, 0, "osworld", action, "not json", "x.png", null)).RootElement;
        Assert.Equal(action, o.GetProperty("action").GetString());
        Assert.Equal("not json", o.GetProperty("result").GetString());
    }

    [Fact]
    public void A_step_without_its_screenshot_names_no_file_and_says_why()
    {
        var o = JsonDocument.Parse(TrajectoryLine.Write(1, s_start, 0, "computer", "{}", "{}", null, "display lost")).RootElement;
        Assert.Equal(JsonValueKind.Null, o.GetProperty("screenshot_file").ValueKind);
        Assert.Equal("display lost", o.GetProperty("screenshot_error").GetString());
    }

    [Fact]
    public void Steps_go_to_a_private_folder_as_they_come_and_stop_publishes_it_with_the_video()
    {
        var video = Path.Combine(_dir, "screen-recording-S.mp4");
        File.WriteAllText(video, "MP4");
        var w = new TrajectoryWriter(_dir, "S", Clock(), Shoot, maxSteps: 10);
        w.Initial();
        var partial = Path.Combine(_dir, ".trajectory-S");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(partial));
        Assert.Equal("PNG#1", File.ReadAllText(Path.Combine(partial, "step_0.png")));

        Assert.Equal(1, w.Add("computer", "{\"action\":\"mouse_move\"}", "{\"status\":\"ok\"}"));
        Assert.Equal(2, w.Add("mcp", "{\"action\":\"left_click\"}", "{\"status\":\"error\"}"));
        // Written as they come: the line and the PNG are on disk before stop.
        var lines = File.ReadAllLines(Path.Combine(partial, "traj.jsonl"));
        Assert.Equal(2, lines.Length);
        var second = JsonDocument.Parse(lines[1]).RootElement;
        var png = Path.Combine(partial, second.GetProperty("screenshot_file").GetString()!);
        Assert.Equal("PNG#3", File.ReadAllText(png));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(png));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(partial, "traj.jsonl")));
        Assert.True(w.Bytes > 0);

        var result = w.Finish(video)!;
        Assert.Equal(new TrajectoryResult("trajectory-S", 2, 0, null), result);
        Assert.False(Directory.Exists(partial));
        var final = Path.Combine(_dir, "trajectory-S");
        Assert.Matches(@"^step_2_\d{8}@\d{6}\.png$", second.GetProperty("screenshot_file").GetString()!);
        var first = JsonDocument.Parse(lines[0]).RootElement.GetProperty("screenshot_file").GetString()!;
        Assert.Equal(new[] { "recording.mp4", "step_0.png", first, Path.GetFileName(png), "traj.jsonl" }.Order(StringComparer.Ordinal),
            Directory.GetFiles(final).Select(f => Path.GetFileName(f)!).Order(StringComparer.Ordinal));
        // The video is the same file (a hard link), not a copy.
        File.AppendAllText(video, "+more");
        Assert.Equal("MP4+more", File.ReadAllText(Path.Combine(final, "recording.mp4")));
        Assert.Equal(["mcp"], File.ReadAllLines(Path.Combine(final, "traj.jsonl")).Skip(1).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("source").GetString()));

        // After stop, nothing more is kept.
        Assert.Equal(0, w.Add("computer", "{}", "{}"));
        Assert.Null(w.Finish(video));
    }

    [Fact]
    public void Steps_past_the_bound_are_counted_and_not_written()
    {
        var w = new TrajectoryWriter(_dir, "B", Clock(), Shoot, maxSteps: 2);
        w.Initial();
        for (var i = 0; i < 5; i++) w.Add("computer", $"{{\"i\":{i}}}", "{}");
        Assert.Equal(2, w.Steps);
        Assert.Equal(3, w.Dropped);
        Assert.Equal(3, _shots);   // step_0 and two steps: no screenshot for a dropped step
        var result = w.Finish(null)!;
        Assert.Equal((2, 3), (result.NumSteps, result.StepsDropped));
        var lines = File.ReadAllLines(Path.Combine(_dir, "trajectory-B", "traj.jsonl"));
        Assert.Equal([0, 1], lines.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("action").GetProperty("i").GetInt32()));
        Assert.False(File.Exists(Path.Combine(_dir, "trajectory-B", "recording.mp4")));
    }

    [Fact]
    public void A_recording_without_steps_leaves_no_trajectory()
    {
        var w = new TrajectoryWriter(_dir, "E", Clock(), Shoot, maxSteps: 10);
        w.Initial();
        Assert.Null(w.Finish(null));
        Assert.Empty(Directory.GetFileSystemEntries(_dir));
    }

    [Fact]
    public void A_failing_screenshot_keeps_the_step_with_the_reason_and_no_file()
    {
        var w = new TrajectoryWriter(_dir, "F", Clock(), _ => throw new IOException("display gone"), maxSteps: 10);
        w.Add("computer", "{}", "{}");
        w.Finish(null);
        var o = JsonDocument.Parse(File.ReadAllLines(Path.Combine(_dir, "trajectory-F", "traj.jsonl")).Single()).RootElement;
        Assert.Equal(JsonValueKind.Null, o.GetProperty("screenshot_file").ValueKind);
        Assert.Equal("display gone", o.GetProperty("screenshot_error").GetString());
        Assert.Equal(["traj.jsonl"], Directory.GetFiles(Path.Combine(_dir, "trajectory-F")).Select(Path.GetFileName));
    }

    [Fact]
    public void A_killed_processs_private_folder_is_published_at_the_next_start_without_a_cut_off_line()
    {
        // What a process killed after two steps, in the middle of the third line's write, leaves.
        var partial = Directory.CreateDirectory(Path.Combine(_dir, ".trajectory-K")).FullName;
        var lines = Path.Combine(partial, "traj.jsonl");
        File.WriteAllBytes(lines, [.. TrajectoryLine.Write(1, s_start, 0, "computer", "{}", "{}", "step_1_x.png", null),
                                   .. TrajectoryLine.Write(2, s_start, 0, "computer", "{}", "{}", "step_2_x.png", null),
                                   .. "{\"step_num\": 3, \"acti"u8]);
        // And one killed before its first step: nothing to publish.
        Directory.CreateDirectory(Path.Combine(_dir, ".trajectory-L"));
        File.WriteAllText(Path.Combine(_dir, ".trajectory-L", "traj.jsonl"), "");
        Assert.Equal(1, TrajectoryWriter.RecoverUnfinished(_dir));
        var recovered = File.ReadAllLines(Path.Combine(_dir, "trajectory-K", "traj.jsonl"));
        Assert.Equal([1, 2], recovered.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("step_num").GetInt32()));
        Assert.False(Directory.Exists(partial));
        Assert.Equal(["trajectory-K"], Directory.GetFileSystemEntries(_dir).Select(Path.GetFileName));
    }

    [Fact]
    public async Task The_journal_keeps_nothing_while_no_recording_runs_and_stops_keeping_at_the_end()
    {
        var journal = new TrajectoryJournal(new RecordingOptions { MaxSteps = 10 }, Shoot, NullLogger.Instance);
        Assert.False(journal.Active);
        await journal.AddAsync("computer", "{}", "{}", default);
        Assert.Empty(Directory.GetFileSystemEntries(_dir));

        journal.Begin(_dir, "J", Clock());
        Assert.True(journal.Active);
        await journal.AddAsync("computer", "{\"n\":1}", "{}", default);
        var result = journal.End(null)!;
        Assert.False(journal.Active);
        Assert.Equal(1, result.NumSteps);
        await journal.AddAsync("computer", "{\"n\":2}", "{}", default);
        Assert.Single(File.ReadAllLines(Path.Combine(_dir, "trajectory-J", "traj.jsonl")));
    }

    [Fact]
    public void Max_steps_zero_turns_trajectories_off()
    {
        var journal = new TrajectoryJournal(new RecordingOptions { MaxSteps = 0 }, Shoot, NullLogger.Instance);
        journal.Begin(_dir, "Z", Clock());
        Assert.False(journal.Active);
        Assert.Null(journal.End(null));
        Assert.Empty(Directory.GetFileSystemEntries(_dir));
    }

    [Fact]
    public async Task Mcp_resources_list_each_trajectory_and_read_its_files_but_nothing_outside()
    {
        var w = new TrajectoryWriter(_dir, "M", Clock(), Shoot, maxSteps: 10);
        w.Add("computer", "{}", "{}");
        Assert.Empty(new RecordingResources(_dir, new McpOptions()).List());   // not published before stop
        w.Finish(null);
        File.WriteAllText(Path.Combine(_dir, "secret.txt"), "x");
        var r = new RecordingResources(_dir, new McpOptions());
        Assert.Equal(["recording://trajectory-M/traj.jsonl"], r.List().Select(x => x.Uri));
        var step = JsonDocument.Parse((await r.ReadAsync("recording://trajectory-M/traj.jsonl", default)).Text!.Split('\n')[0])
            .RootElement.GetProperty("screenshot_file").GetString();
        var png = await r.ReadAsync("recording://trajectory-M/" + step, default);
        Assert.Equal("image/png", png.MimeType);
        Assert.Equal("PNG#1", Encoding.ASCII.GetString(png.Blob.Span));
        foreach (var bad in new[] { "recording://trajectory-M/../secret.txt", "recording://trajectory-M/a/b.png", "recording://other/traj.jsonl",
                                    "recording://../trajectory-M/traj.jsonl", "recording://trajectory-M/", "recording://.trajectory-M/traj.jsonl" })
            await Assert.ThrowsAsync<Sandbox.Common.SandboxException>(async () => await r.ReadAsync(bad, default));
    }
}
