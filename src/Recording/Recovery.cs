using System.Text;
using Microsoft.Extensions.Logging;

namespace Sandbox.Recording;

/// <summary>Completes a journal whose process died before stop (kill -9, power loss, a crash).</summary>
internal static class Recovery
{
    /// <summary>
    /// If <paramref name="path"/> has no footer and no process holds it, writes its action list (when
    /// missing) and appends a <c>recording_stopped</c> footer with reason <c>recovered</c>. Returns true if it did.
    /// </summary>
    public static bool TryFinish(string path, RecordingOptions options, ILogger log)
    {
        // FileShare.None takes an exclusive lock, which fails while the writing process is alive.
        using var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
        string text;
        using (var reader = new StreamReader(stream, Encoding.UTF8, false, 64 * 1024, leaveOpen: true)) text = reader.ReadToEnd();
        var contents = Journal.Parse(text.Split('\n'));
        if (contents.Finished) return false;

        var builder = new ActionBuilder(options.Builder);
        foreach (var e in contents.Events) builder.Add(e);
        var actions = builder.Finish();
        var header = contents.Notes.FirstOrDefault(n => n.Event == JournalNote.Started);
        var name = Path.GetFileName(path);
        var stamp = name["events-".Length..^".jsonl".Length];
        var actionsRelative = header?.ActionRecordingFile ?? $"recordings/actions-{stamp}.json";
        var actionsPath = Path.Combine(Path.GetDirectoryName(path)!, Path.GetFileName(actionsRelative));
        if (!File.Exists(actionsPath)) RecordingSession.WriteActions(actionsPath, actions);

        var last = contents.Events.Count > 0 ? contents.Events[^1] : null;
        var footer = new JournalNote
        {
            Event = JournalNote.Stopped,
            Time = last?.Time ?? 0,
            Timestamp = last?.Timestamp ?? header?.Timestamp ?? "",
            Reason = "recovered",
            NumEvents = contents.Events.Count,
            NumActions = actions.Count,
            ActionRecordingFile = actionsRelative,
            Message = contents.BadLines > 0 ? $"{contents.BadLines} unreadable line(s) skipped" : "the recording process ended without stopping",
        };
        var line = System.Text.Json.JsonSerializer.Serialize(footer, RecordingJson.Compact.JournalNote);
        stream.Seek(0, SeekOrigin.End);
        var prefix = text.Length > 0 && !text.EndsWith('\n') ? "\n" : "";
        var bytes = Encoding.UTF8.GetBytes(prefix + line + "\n");
        stream.Write(bytes);
        stream.Flush(flushToDisk: true);
        log.LogInformation("recording: recovered {Path}: {Events} events, {Actions} actions", path, contents.Events.Count, actions.Count);
        return true;
    }
}
