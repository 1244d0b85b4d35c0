using System.Text.Json;
using Microsoft.Extensions.Logging;
using Sandbox.Common;

namespace Sandbox.Recording;

/// <summary>What a finished recording left behind.</summary>
internal sealed record RecordingResult(string EventsFile, string ActionsFile, long NumEvents, int NumActions, double Duration, string? Error);

/// <summary>
/// One recording: its journal, the action list being built, its video. Events arrive on the capture
/// thread, markers from ffmpeg's supervisor; one lock orders them into the journal.
/// </summary>
internal sealed class RecordingSession : IInputSink
{
    private readonly object _gate = new();
    private readonly Journal _journal;
    private readonly ActionBuilder _builder;
    private readonly ILogger _log;
    private readonly Action<ActionRecord>? _observer;
    private int _observed;
    private long _events;
    private bool _closed;
    private string? _journalError;

    /// <param name="observer">Told each action as the builder finishes it (the live view's activity list); must not block.</param>
    public RecordingSession(string sharedDir, string stamp, RecordingClock clock, RecordingOptions options, JournalNote header, ILogger log,
        Action<ActionRecord>? observer = null)
    {
        _observer = observer;
        SharedDir = sharedDir;
        Stamp = stamp;
        Clock = clock;
        _log = log;
        _builder = new ActionBuilder(options.Builder);
        EventsFile = $"recordings/events-{stamp}.jsonl";
        ActionsFile = $"recordings/actions-{stamp}.json";
        VideoFile = $"recordings/screen-recording-{stamp}.mp4";
        _journal = Journal.Create(Full(EventsFile), options.FsyncIntervalMs);
        header.Event = JournalNote.Started;
        header.Timestamp = clock.Stamp(0);
        header.ActionRecordingFile = ActionsFile;
        _journal.Add(header);
        _journal.Commit();
    }

    public string SharedDir { get; }
    public string Stamp { get; }
    public RecordingClock Clock { get; }
    public string EventsFile { get; }
    public string ActionsFile { get; }
    public string VideoFile { get; }
    public ScreenVideo? Video { get; set; }
    /// <summary>Why there is no video: disabled, ffmpeg missing, or a start failure.</summary>
    public VideoState? VideoAbsence { get; set; }
    public string? VideoMessage { get; set; }
    public int Fps { get; init; }

    public long NumEvents => Interlocked.Read(ref _events);
    public int NumActions { get { lock (_gate) return _builder.Count; } }
    public string? JournalError => _journalError;

    /// <summary>Bytes written so far: the journal and the video file.</summary>
    public long Bytes()
    {
        long video = 0;
        try { if (Video is not null) video = new FileInfo(Full(VideoFile)).Length; }
        catch (IOException) { }
        return _journal.Bytes + video;
    }

    public string Full(string relative) => Path.Combine(SharedDir, relative);

    public void Accept(List<InputEvent> events)
    {
        lock (_gate)
        {
            if (_closed) return;
            foreach (var e in events)
            {
                _journal.Add(e);
                _builder.Add(e);
            }
            Interlocked.Add(ref _events, events.Count);
            Commit();
            Observe(_builder.Completed);
        }
    }

    public void Note(JournalNote note)
    {
        lock (_gate)
        {
            if (_closed) return;
            _journal.Add(note);
            Commit();
        }
    }

    /// <summary>Hands the actions finished since the last call to the observer (under the lock, so in order).</summary>
    private void Observe(IReadOnlyList<ActionRecord> actions)
    {
        if (_observer is null) return;
        for (; _observed < actions.Count; _observed++) _observer(actions[_observed]);
    }

    private void Commit()
    {
        try
        {
            _journal.Commit();
        }
        catch (IOException e)
        {
            // A full disk: the actions stay in memory and are written at stop if space came back.
            if (_journalError is null) _log.LogError("recording: journal write failed: {Message}", e.Message);
            _journalError = e.Message;
        }
    }

    /// <summary>Writes the action list (indent 2, atomically) and the journal's footer; closes the journal.</summary>
    public RecordingResult Finish(string reason)
    {
        lock (_gate)
        {
            var duration = Math.Round(Clock.Now, 3);
            if (_closed) return new RecordingResult(EventsFile, ActionsFile, NumEvents, _builder.Count, duration, "already finished");
            _closed = true;
            var actions = _builder.Finish();
            Observe(actions);
            string? error = null;
            try
            {
                WriteActions(Full(ActionsFile), actions);
            }
            catch (IOException e)
            {
                error = $"cannot write {ActionsFile}: {e.Message}";
                _log.LogError("recording: {Error}", error);
            }
            try
            {
                _journal.Close(new JournalNote
                {
                    Event = JournalNote.Stopped,
                    Time = duration,
                    Timestamp = Clock.Stamp(duration),
                    Reason = reason,
                    NumEvents = NumEvents,
                    NumActions = actions.Count,
                    ActionRecordingFile = ActionsFile,
                    ScreenRecordingFile = Video?.State == VideoState.Stopped ? VideoFile : null,
                    Message = Video?.Error ?? _journalError,
                });
            }
            catch (IOException e)
            {
                error ??= $"cannot finish {EventsFile}: {e.Message}";
            }
            return new RecordingResult(EventsFile, ActionsFile, NumEvents, actions.Count, duration, error ?? _journalError);
        }
    }

    /// <summary>Start failed: the journal holds only its header and is removed.</summary>
    public void Abandon()
    {
        lock (_gate)
        {
            _closed = true;
            _journal.Close(null);
            try { File.Delete(Full(EventsFile)); } catch (IOException) { }
        }
    }

    public static void WriteActions(string path, List<ActionRecord> actions)
    {
        var temp = path + ".tmp";
        using (var stream = PrivateFiles.Create(temp, FileMode.Create))
        {
            JsonSerializer.Serialize(stream, actions, RecordingJson.Indented.ListActionRecord);
            stream.Flush(flushToDisk: true);
        }
        File.Move(temp, path, overwrite: true);
    }
}
