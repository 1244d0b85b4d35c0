using System.Globalization;
using System.Text.Json;
using Sandbox.E2E.Infrastructure;
using Sandbox.E2E.Reliability;
using Sandbox.Testing;
using Xunit.Abstractions;
using static Sandbox.E2E.Recording.Rec;

namespace Sandbox.E2E.Recording;

/// <summary>Screen video through ffmpeg: decodable, at the asked rate, as long as the recording; and its failures.</summary>
public sealed class RecordVideoTests(ITestOutputHelper output)
{
    private static (string Codec, string Rate, double Duration, int Width, int Height) Probe(string path)
    {
        var o = Processes.Check("ffprobe", ["-v", "error", "-select_streams", "v:0", "-show_entries",
            "stream=codec_name,r_frame_rate,width,height:format=duration", "-of", "json", path]);
        var j = JsonDocument.Parse(o).RootElement;
        var s = j.GetProperty("streams")[0];
        return (s.GetProperty("codec_name").GetString()!, s.GetProperty("r_frame_rate").GetString()!,
            double.Parse(j.GetProperty("format").GetProperty("duration").GetString()!, CultureInfo.InvariantCulture),
            s.GetProperty("width").GetInt32(), s.GetProperty("height").GetInt32());
    }

    /// <summary>Decodes every frame (ffmpeg -f null): a truncated or corrupt file fails here.</summary>
    private static void Decodes(string path) =>
        Processes.Check("ffmpeg", ["-v", "error", "-xerror", "-i", path, "-f", "null", "-"]);

    [Fact]
    public async Task The_mp4_decodes_with_the_asked_fps_and_about_the_recordings_duration()
    {
        using var x = XvfbServer.Start(640, 480);
        using var app = ApplianceProcess.Start(x);
        var start = await Start(app, "fps=15");
        Assert.Equal("screen_recording_started", start.GetProperty("screen_recording_status").GetString());
        Thread.Sleep(1000);
        Xdo(x, "mousemove", "--sync", "300", "200", "click", "1");
        Thread.Sleep(2000);
        var stop = await Stop(app);
        Assert.Equal("screen_recording_stopped", stop.GetProperty("screen_recording_status").GetString());
        var file = stop.GetProperty("screen_recording_file").GetString()!;
        Assert.Matches(@"^recordings/screen-recording-\d{8}_\d{6}(_\d+)?\.mp4$", file);
        var path = Path.Combine(app.SharedDir, file);
        var (codec, rate, duration, w, h) = Probe(path);
        Assert.Equal(stop.GetProperty("codec").GetString() == "h264" ? "h264" : "mpeg4", codec);
        Assert.Equal("15/1", rate);
        Assert.Equal((640, 480), (w, h));
        var recorded = stop.GetProperty("duration").GetDouble();
        Assert.InRange(duration, recorded * 0.5, recorded * 1.5);
        Decodes(path);
        Assert.Equal(2, Actions(app, stop).GetArrayLength());
    }

    [Fact]
    public async Task Mpeg4_on_request_and_odd_screen_sizes_are_evened()
    {
        using var x = XvfbServer.Start(641, 479);
        using var app = ApplianceProcess.Start(x);
        await Start(app, "fps=5&codec=mp4v");
        Thread.Sleep(1500);
        var stop = await Stop(app);
        Assert.Equal("mpeg4", stop.GetProperty("codec").GetString());
        var (codec, rate, _, w, h) = Probe(Path.Combine(app.SharedDir, stop.GetProperty("screen_recording_file").GetString()!));
        Assert.Equal(("mpeg4", "5/1", 640, 478), (codec, rate, w, h));
    }

    [Fact]
    public async Task Without_ffmpeg_the_status_says_so_and_actions_are_still_recorded()
    {
        using var x = XvfbServer.Start(640, 480);
        using var app = ApplianceProcess.Start(x, new Dictionary<string, string?> { ["SANDBOX_FFMPEG"] = "/nonexistent/ffmpeg" });
        var start = await Start(app, "fps=10");
        Assert.Equal("action_recording_started", start.GetProperty("action_recording_status").GetString());
        Assert.Equal("ffmpeg_not_found", start.GetProperty("screen_recording_status").GetString());
        Assert.Contains("ffmpeg", start.GetProperty("message").GetString());
        Xdo(x, "type", "ok");
        var stop = await Stop(app);
        Assert.Equal("ffmpeg_not_found", stop.GetProperty("screen_recording_status").GetString());
        Assert.Equal(JsonValueKind.Null, stop.GetProperty("screen_recording_file").ValueKind);
        Assert.Equal("ok", Actions(app, stop)[0].GetProperty("text").GetString());
    }

    [Fact]
    public async Task An_ffmpeg_that_dies_mid_recording_is_reported_at_stop_and_the_actions_are_kept()
    {
        using var x = XvfbServer.Start(640, 480);
        using var app = ApplianceProcess.Start(x);
        var start = await Start(app, "fps=10");
        var video = Path.Combine(app.SharedDir, start.GetProperty("screen_recording_file").GetString()!);
        Xdo(x, "type", "before");
        var ffmpeg = FindProcess(video);
        Processes.Check("kill", ["-KILL", ffmpeg.ToString()]);
        Eventually(() => app.GetJsonAsync("/record?mode=status").Result.GetProperty("screen_recording_status").GetString() == "screen_recording_failed",
            "status reports the dead ffmpeg");
        Xdo(x, "key", "Return");
        Xdo(x, "type", "after");
        var stop = await Stop(app);
        Assert.Equal("action_recording_stopped", stop.GetProperty("action_recording_status").GetString());
        Assert.Equal("screen_recording_failed", stop.GetProperty("screen_recording_status").GetString());
        Assert.Contains("ffmpeg exited", stop.GetProperty("message").GetString());
        Assert.Equal(["before", "Key.enter", "after"], Actions(app, stop).EnumerateArray()
            .Select(a => a.TryGetProperty("text", out var t) ? t.GetString() : a.GetProperty("key").GetString()));
        Assert.Contains(Journal(app, stop), l => l.GetProperty("event").GetString() == "screen_recording_failed");
        Figures.Report(output, "faults(ffmpeg kill): ffmpeg SIGKILLed mid-recording: reported as screen_recording_failed in status, " +
            "stop answer and journal; 3 actions before and after it kept; events lost: 0");
    }

    /// <summary>The ffmpeg writing <paramref name="output"/> (found by its command line, so only ours).</summary>
    internal static int FindProcess(string output)
    {
        int? found = null;
        Eventually(() =>
        {
            foreach (var dir in Directory.EnumerateDirectories("/proc"))
            {
                if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
                try
                {
                    var args = File.ReadAllText(Path.Combine(dir, "cmdline")).Split('\0');
                    if (args.Length > 1 && Path.GetFileName(args[0]) == "ffmpeg" && args.Contains(output)) { found = pid; return true; }
                }
                catch (IOException) { }
                catch (UnauthorizedAccessException) { }
            }
            return false;
        }, "ffmpeg running for " + output);
        return found!.Value;
    }
}
