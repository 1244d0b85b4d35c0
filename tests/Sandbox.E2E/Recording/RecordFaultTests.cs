using System.Globalization;
using System.Text.Json;
using Sandbox.E2E.Infrastructure;
using Sandbox.E2E.Reliability;
using Sandbox.Testing;
using Xunit.Abstractions;
using static Sandbox.E2E.Recording.Rec;

namespace Sandbox.E2E.Recording;

/// <summary>Nothing lost: SIGKILL, SIGTERM and a restarted X server during a recording.</summary>
public sealed class RecordFaultTests(ITestOutputHelper output)
{
    [Fact]
    public async Task After_SIGKILL_the_journal_holds_every_event_and_the_next_start_recovers_the_actions()
    {
        using var x = XvfbServer.Start(800, 600);
        var shared = Directory.CreateTempSubdirectory("sandbox-e2e-kill-").FullName;
        try
        {
            string eventsFile, video;
            using (var app = ApplianceProcess.Start(x, sharedDir: shared))
            {
                var start = await Start(app, "fps=10");
                eventsFile = Path.Combine(shared, start.GetProperty("events_file").GetString()!);
                video = Path.Combine(shared, start.GetProperty("screen_recording_file").GetString()!);
                Xdo(x, "type", "killed mid-sentence");
                Xdo(x, "mousemove", "--sync", "10", "20", "click", "1");
                // Injection is synchronous with the X server; the journal is written within milliseconds.
                // Wait only until the last injected event is there, then kill.
                Eventually(() => InputEvents(Journal(eventsFile)).Count(e => e.GetProperty("event").GetString() == "button_release") == 1,
                    "the click reached the journal");
                app.Kill();
            }
            var lines = Journal(eventsFile);
            Assert.DoesNotContain(lines, l => l.GetProperty("event").GetString() == "recording_stopped");
            var events = InputEvents(lines);
            Assert.Equal("killed mid-sentence", string.Concat(events.Where(e => e.GetProperty("event").GetString() == "key_press")
                .Select(e => e.TryGetProperty("text", out var t) ? t.GetString() : "")));
            Assert.Equal("killed mid-sentence".Length, events.Count(e => e.GetProperty("event").GetString() == "key_release") -
                events.Count(e => e.GetProperty("event").GetString() == "key_release" && e.GetProperty("key").GetString()!.StartsWith("Key.shift")));
            Assert.Equal(Enumerable.Range(1, events.Count).Select(i => (long)i), events.Select(e => e.GetProperty("seq").GetInt64()));

            // The watchdog saw our end and had ffmpeg finish a playable file.
            Eventually(() => { try { Processes.Check("ffprobe", ["-v", "error", video]); return true; } catch (InvalidOperationException) { return false; } },
                "the video of the killed appliance becomes playable", timeoutMs: 30_000);

            using var again = ApplianceProcess.Start(x, sharedDir: shared);
            var stamp = Path.GetFileName(eventsFile)["events-".Length..^".jsonl".Length];
            var actionsPath = Path.Combine(shared, "recordings", $"actions-{stamp}.json");
            Eventually(() => File.Exists(actionsPath), "recovery wrote the actions", timeoutMs: 30_000);
            var actions = JsonDocument.Parse(File.ReadAllText(actionsPath)).RootElement;
            Assert.Equal("killed mid-sentence", actions[0].GetProperty("text").GetString());
            Assert.Equal("click", actions[1].GetProperty("event").GetString());
            Assert.Equal("recovered", Journal(eventsFile)[^1].GetProperty("reason").GetString());
            Figures.Report(output, $"faults(recording SIGKILL): appliance SIGKILLed mid-recording: {events.Count} input events in the journal, " +
                $"seq gaps 0, video playable, actions recovered at the next start; events lost: 0");
        }
        finally
        {
            Directory.Delete(shared, recursive: true);
        }
    }

    [Fact]
    public async Task SIGTERM_during_a_recording_finishes_the_actions_the_journal_and_the_video()
    {
        using var x = XvfbServer.Start(640, 480);
        var shared = Directory.CreateTempSubdirectory("sandbox-e2e-term-").FullName;
        try
        {
            JsonElement start;
            using (var app = ApplianceProcess.Start(x, sharedDir: shared))
            {
                start = await Start(app, "fps=10");
                Xdo(x, "type", "graceful");
                Thread.Sleep(1000);
                Assert.Equal(0, app.Stop(20_000));
            }
            var journal = Journal(Path.Combine(shared, start.GetProperty("events_file").GetString()!));
            Assert.Equal("recording_stopped", journal[^1].GetProperty("event").GetString());
            Assert.Equal("shutdown", journal[^1].GetProperty("reason").GetString());
            var actions = JsonDocument.Parse(File.ReadAllText(Path.Combine(shared, start.GetProperty("action_recording_file").GetString()!))).RootElement;
            Assert.Equal("graceful", actions[0].GetProperty("text").GetString());
            var video = Path.Combine(shared, start.GetProperty("screen_recording_file").GetString()!);
            var o = Processes.Check("ffprobe", ["-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", video]);
            Assert.True(double.Parse(o.Trim(), CultureInfo.InvariantCulture) > 0.3);
        }
        finally
        {
            Directory.Delete(shared, recursive: true);
        }
    }

    [Fact]
    public async Task A_restarted_X_server_is_reported_and_recording_continues_on_the_new_one()
    {
        using var x = XvfbServer.Start(800, 600);
        using var app = ApplianceProcess.Start(x, new Dictionary<string, string?> { ["SANDBOX_RECORD_RECONNECT_MS"] = "100" });
        var start = await Start(app);
        Xdo(x, "type", "one");
        Eventually(() => InputEvents(Journal(app, start)).Count == 6, "the first keys are journaled");

        x.Kill();
        Eventually(() => app.GetJsonAsync("/record?mode=status").Result.GetProperty("display_state").GetString() == "lost", "status shows the loss");
        Assert.False(app.HasExited);

        x.Restart();
        Eventually(() => app.GetJsonAsync("/record?mode=status").Result.GetProperty("display_state").GetString() == "connected", "recording resumes");
        Xdo(x, "key", "Return");
        Xdo(x, "type", "two");
        var stop = await Stop(app);
        var actions = Actions(app, stop);
        Assert.Equal(["one", "Key.enter", "two"], actions.EnumerateArray()
            .Select(a => a.TryGetProperty("text", out var t) ? t.GetString() : a.GetProperty("key").GetString()));
        var notes = Journal(app, stop).Select(l => l.GetProperty("event").GetString()).ToList();
        Assert.True(notes.IndexOf("display_lost") < notes.IndexOf("display_restored"));
        Assert.False(app.HasExited);
        Figures.Report(output, "faults(recording X restart): X server killed and restarted during a recording: display_lost and " +
            $"display_restored journaled, {actions.GetArrayLength()} actions from both servers in one recording; events lost: 0");
    }
}
