using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Sandbox.Recording;

namespace Sandbox.Tests.Recording;

/// <summary>The files a recording leaves: the action list's exact shapes and the journal's round trip.</summary>
public sealed class RecordingFilesTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sandbox-rec-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Actions_file_has_the_old_suites_keys_in_order_indented_by_two()
    {
        var path = Path.Combine(_dir, "actions.json");
        RecordingSession.WriteActions(path, [
            new ClickAction(10, 20, "Button.left", true, "2025-01-02T03:04:05.123456+00:00"),
            new TypedSequenceAction("Hello, World!", "2025-01-02T03:04:06.000000+00:00"),
            new HotkeyAction("ctrl+c", "2025-01-02T03:04:07.000000+00:00"),
            new ScrollAction(1, 2, 0, -3, "2025-01-02T03:04:08.000000+00:00"),
            new DragAction("Button.left", 1, 2, 3, 4, 0.5, "2025-01-02T03:04:09.000000+00:00"),
        ]);
        var text = File.ReadAllText(path);
        Assert.StartsWith("[\n  {\n    \"event\": \"click\",\n    \"x\": 10,\n    \"y\": 20,\n    \"button\": \"Button.left\",\n    \"pressed\": true,\n    \"timestamp\": \"2025-01-02T03:04:05.123456+00:00\"\n  },", text);
        Assert.Contains("\"key\": \"ctrl+c\"", text);   // not ctrl\u002Bc
        var doc = JsonDocument.Parse(text).RootElement;
        Assert.Equal(["event", "text", "timestamp"], doc[1].EnumerateObject().Select(p => p.Name));
        Assert.Equal(["event", "key", "timestamp"], doc[2].EnumerateObject().Select(p => p.Name));
        Assert.Equal(["event", "x", "y", "dx", "dy", "timestamp"], doc[3].EnumerateObject().Select(p => p.Name));
        Assert.Equal(["event", "button", "x", "y", "end_x", "end_y", "duration", "timestamp"], doc[4].EnumerateObject().Select(p => p.Name));
        Assert.False(File.Exists(path + ".tmp"));
    }

    [Fact]
    public void Timestamps_are_iso_8601_utc_with_microseconds_that_python_reads()
    {
        var s = InputEvent.FormatTimestamp(new DateTime(2025, 1, 2, 3, 4, 5, DateTimeKind.Utc).AddTicks(1234567));
        Assert.Equal("2025-01-02T03:04:05.123456+00:00", s);
        Assert.Equal(DateTimeOffset.Parse(s).Offset, TimeSpan.Zero);
    }

    [Fact]
    public void Journal_lines_round_trip_and_a_cut_off_journal_reads_up_to_its_last_line()
    {
        var path = Path.Combine(_dir, "events-x.jsonl");
        var events = new Events().Type("Hi").Click(3, 5, 6).List;
        using (var journal = Journal.Create(path, 0))
        {
            journal.Add(new JournalNote { Event = JournalNote.Started, Timestamp = "t0" });
            foreach (var e in events) journal.Add(e);
            journal.Commit();
            // No footer: as if the process was killed here.
        }
        var read = Journal.Read(path);
        Assert.False(read.Finished);
        Assert.Equal(events.Count, read.Events.Count);
        for (var i = 0; i < events.Count; i++)
        {
            Assert.Equal(JsonSerializer.Serialize(events[i], RecordingJson.Compact.InputEvent),
                JsonSerializer.Serialize(read.Events[i], RecordingJson.Compact.InputEvent));
        }
        Assert.Equal(HeldModifiers.Shift, read.Events.First(e => e.Key == "H").Modifiers);
    }

    [Fact]
    public void Recovery_writes_the_actions_and_a_footer_once()
    {
        var path = Path.Combine(_dir, "events-20250101_000000.jsonl");
        using (var journal = Journal.Create(path, 0))
        {
            journal.Add(new JournalNote { Event = JournalNote.Started, Timestamp = "t0", ActionRecordingFile = "recordings/actions-20250101_000000.json" });
            foreach (var e in new Events().Type("abc").Tap(36, 0xff0d).List) journal.Add(e);
            journal.Commit();
        }
        Assert.True(Recovery.TryFinish(path, new RecordingOptions(), NullLogger.Instance));
        Assert.False(Recovery.TryFinish(path, new RecordingOptions(), NullLogger.Instance));
        var read = Journal.Read(path);
        Assert.True(read.Finished);
        Assert.Equal("recovered", read.Notes[^1].Reason);
        var actions = JsonDocument.Parse(File.ReadAllText(Path.Combine(_dir, "actions-20250101_000000.json"))).RootElement;
        Assert.Equal("abc", actions[0].GetProperty("text").GetString());
        Assert.Equal("Key.enter", actions[1].GetProperty("key").GetString());
    }

    [Fact]
    public void A_journal_still_held_by_its_writer_is_not_recovered()
    {
        var path = Path.Combine(_dir, "events-held.jsonl");
        using var journal = Journal.Create(path, 0);
        journal.Add(new JournalNote { Event = JournalNote.Started, Timestamp = "t0" });
        journal.Commit();
        Assert.ThrowsAny<IOException>(() => Recovery.TryFinish(path, new RecordingOptions(), NullLogger.Instance));
    }
}
