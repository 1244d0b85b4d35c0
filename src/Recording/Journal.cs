using System.Buffers;
using System.Text.Json;
using Microsoft.Win32.SafeHandles;
using Sandbox.Common;

namespace Sandbox.Recording;

/// <summary>A line of the journal that is not an input event: the header, markers and the footer.</summary>
internal sealed class JournalNote
{
    public const string Started = "recording_started";
    public const string Stopped = "recording_stopped";
    public const string DisplayLost = "display_lost";
    public const string DisplayRestored = "display_restored";

    public string Event { get; set; } = "";
    public string Timestamp { get; set; } = "";
    public double Time { get; set; }
    public int? Version { get; set; }
    public string? Display { get; set; }
    public int[]? ScreenSize { get; set; }
    public string? ScreenRecordingFile { get; set; }
    public string? ActionRecordingFile { get; set; }
    public long? NumEvents { get; set; }
    public int? NumActions { get; set; }
    public string? Reason { get; set; }
    public string? Message { get; set; }
}

/// <summary>
/// The append-only event journal, <c>recordings/events-&lt;ts&gt;.jsonl</c>: a <c>recording_started</c> header,
/// one JSON line per input event, markers, and a <c>recording_stopped</c> footer when the recording ended
/// properly. Each batch of events is written with one write(2) as soon as XRecord delivered it, so a
/// process killed with SIGKILL leaves every event up to that moment in the page cache and the file
/// (a missing footer tells the reader, and the next start, that it was cut short). fsync runs at most
/// every <c>fsyncIntervalMs</c> while something was written, for a machine that loses power.
/// <para>Threading: writes come from the recorder thread; the fsync timer touches only the handle.</para>
/// </summary>
internal sealed class Journal : IDisposable
{
    private readonly SafeFileHandle _file;
    private readonly ArrayBufferWriter<byte> _buffer = new(64 * 1024);
    private readonly Utf8JsonWriter _writer;
    private readonly Timer? _syncTimer;
    private readonly int _syncIntervalMs;
    private long _offset;
    private int _dirty;
    private bool _closed;

    private Journal(string path, SafeFileHandle file, int syncIntervalMs)
    {
        Path = path;
        _file = file;
        _syncIntervalMs = syncIntervalMs;
        _writer = new Utf8JsonWriter(_buffer, new JsonWriterOptions { Encoder = RecordingJson.Compact.Options.Encoder, SkipValidation = true });
        if (syncIntervalMs > 0) _syncTimer = new Timer(static s => ((Journal)s!).SyncIfDirty(), this, Timeout.Infinite, Timeout.Infinite);
    }

    public string Path { get; }
    public long Bytes => Interlocked.Read(ref _offset);

    public static Journal Create(string path, int syncIntervalMs)
    {
        // Created exclusively with the private mode first (File.OpenHandle cannot set the mode), then opened.
        PrivateFiles.Create(path).Dispose();
        return new(path, File.OpenHandle(path, FileMode.Open, FileAccess.Write, FileShare.Read), syncIntervalMs);
    }

    public void Add(InputEvent e)
    {
        JsonSerializer.Serialize(_writer, e, RecordingJson.Compact.InputEvent);
        EndLine();
    }

    public void Add(JournalNote note)
    {
        JsonSerializer.Serialize(_writer, note, RecordingJson.Compact.JournalNote);
        EndLine();
    }

    private void EndLine()
    {
        _writer.Flush();
        _writer.Reset();
        _buffer.Write("\n"u8);
    }

    /// <summary>Writes everything added since the last commit, in one system call.</summary>
    public void Commit()
    {
        if (_buffer.WrittenCount == 0 || _closed) return;
        RandomAccess.Write(_file, _buffer.WrittenSpan, _offset);
        Interlocked.Add(ref _offset, _buffer.WrittenCount);
        _buffer.ResetWrittenCount();
        if (_syncTimer is not null && Interlocked.Exchange(ref _dirty, 1) == 0)
            _syncTimer.Change(_syncIntervalMs, Timeout.Infinite);
    }

    private void SyncIfDirty()
    {
        if (Interlocked.Exchange(ref _dirty, 0) == 0) return;
        try { RandomAccess.FlushToDisk(_file); }
        catch (ObjectDisposedException) { }
        catch (IOException) { }
    }

    /// <summary>Writes the footer, syncs and closes. Safe to call twice.</summary>
    public void Close(JournalNote? footer)
    {
        if (_closed) return;
        if (footer is not null) Add(footer);
        Commit();
        _closed = true;
        _syncTimer?.Dispose();
        try { RandomAccess.FlushToDisk(_file); } catch (IOException) { }
        _file.Dispose();
        _writer.Dispose();
    }

    public void Dispose() => Close(null);

    /// <summary>
    /// Reads a journal back: its events and notes, in order. A line that does not parse (a write cut by a
    /// full disk) is skipped and counted.
    /// </summary>
    public static JournalContents Read(string path) => Parse(File.ReadLines(path));

    public static JournalContents Parse(IEnumerable<string> lines)
    {
        var contents = new JournalContents();
        foreach (var line in lines)
        {
            if (line.Length == 0) continue;
            try
            {
                using var doc = JsonDocument.Parse(line);
                var kind = doc.RootElement.TryGetProperty("event", out var ev) ? ev.GetString() : null;
                if (kind is not null && IsInputKind(kind))
                    contents.Events.Add(doc.RootElement.Deserialize(RecordingJson.Compact.InputEvent)!);
                else
                    contents.Notes.Add(doc.RootElement.Deserialize(RecordingJson.Compact.JournalNote)!);
            }
            catch (JsonException)
            {
                contents.BadLines++;
            }
        }
        return contents;
    }

    private static bool IsInputKind(string s) => s is "key_press" or "key_release" or "button_press" or "button_release" or "motion";
}

internal sealed class JournalContents
{
    public List<InputEvent> Events { get; } = [];
    public List<JournalNote> Notes { get; } = [];
    public int BadLines { get; set; }
    public bool Finished => Notes.Count > 0 && Notes[^1].Event == JournalNote.Stopped;
}
