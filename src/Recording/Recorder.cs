using System.Globalization;
using System.Reflection;
using Microsoft.Extensions.Logging;
using Sandbox.Display;
using Sandbox.Common;

namespace Sandbox.Recording;

/// <summary>
/// The /record answer. The first five keys are the old suite's; the rest are additions. On stop,
/// <c>screen_recording_file</c> is always present (null without a video), as old clients index it.
/// </summary>
internal sealed record RecordAnswer(
    string ActionRecordingStatus,
    string ScreenRecordingStatus,
    string? ActionRecordingFile = null,
    int? NumActions = null,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.Never)]
    string? ScreenRecordingFile = null,
    string? EventsFile = null,
    long? NumEvents = null,
    double? Duration = null,
    int? Fps = null,
    string? Codec = null,
    string? DisplayState = null,
    string? Message = null,
    string? TrajectoryDir = null,
    int? NumSteps = null,
    int? StepsDropped = null);

/// <summary>The recording section of /health.</summary>
internal sealed record RecordingHealth(string State, long? NumEvents, string? ScreenRecording, string? Error);

internal sealed record RecordStart(int Fps, string? Codec, bool Video);

/// <summary>
/// Input and screen recording for /record: one recording at a time. Start returns once the X server
/// records; stop returns once every event up to the request is in the journal, the action list is
/// written and ffmpeg has finished its file. Application shutdown (SIGTERM) stops a running recording
/// the same way.
/// </summary>
internal sealed class Recorder : IDisposable
{
    private readonly object _gate = new();
    private readonly ApplianceOptions _options;
    private readonly RecordingOptions _ro;
    private readonly InputCapture _capture;
    private readonly ILogger _log;
    private volatile RecordingSession? _current;
    private bool _disposed;

    private readonly ActivityFeed? _activity;
    private readonly TrajectoryJournal _steps;

    /// <param name="activity">Where started/stopped recordings and the recorded actions are reported (live view); optional.</param>
    /// <param name="screenshot">Takes each agent step's screenshot for the trajectory (docs/recording.md "Trajectories");
    /// without it, steps are journaled without PNGs.</param>
    public Recorder(ApplianceOptions options, RecordingOptions recording, ILoggerFactory logs, ActivityFeed? activity = null,
        StepScreenshot? screenshot = null)
    {
        _activity = activity;
        _options = options;
        _ro = recording;
        _log = logs.CreateLogger("Sandbox.Recording");
        _capture = new InputCapture(options.Display, _ro, options.DisplayTimeoutMs, _log);
        _steps = new TrajectoryJournal(recording, screenshot, _log);
    }

    public RecordingOptions Options => _ro;

    /// <summary>Where the acting areas report agent steps: kept as the running recording's trajectory.</summary>
    public IStepJournal Steps => _steps;

    public RecordAnswer Start(RecordStart request)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_current is { } running)
                return new RecordAnswer("already_recording", running.Video is not null ? "already_recording" : ScreenStatus(running, stopped: false),
                    running.ActionsFile, null, running.Video is not null ? running.VideoFile : null, running.EventsFile,
                    running.NumEvents, Math.Round(running.Clock.Now, 3), running.Fps, running.Video?.Codec.Name, DisplayStateText(),
                    "a recording is already running; stop it first");

            // One round trip first: no display is a 503 before any file exists, and the header gets the size.
            var (width, height) = _capture.Control.Run(static s => s.RefreshScreenSize(), _options.DisplayTimeoutMs);
            PrivateFiles.CreateDirectory(_options.RecordingDir);
            var stamp = UniqueStamp();
            var clock = new RecordingClock();
            var session = new RecordingSession(_options.SharedDir, stamp, clock, _ro, new JournalNote
            {
                Version = 1,
                Display = _options.Display,
                ScreenSize = [width, height],
            }, _log, _activity is null ? null : Report) { Fps = request.Fps };
            try
            {
                _capture.Start(session, clock);
            }
            catch
            {
                session.Abandon();
                throw;
            }
            if (request.Video) StartVideo(session, request);
            else session.VideoAbsence = VideoState.Disabled;
            try
            {
                _steps.Begin(_options.RecordingDir, stamp, clock);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // A recording without its trajectory is still a recording; the reason is logged and in the journal.
                _log.LogWarning("recording {Stamp}: no trajectory: {Message}", stamp, e.Message);
                session.Note(new JournalNote { Event = "trajectory_failed", Time = 0, Timestamp = clock.Stamp(0), Message = e.Message });
            }
            _current = session;
            WatchLimits(session);
            _log.LogInformation("recording {Stamp} started (video: {Video})", stamp, ScreenStatus(session, false));
            _activity?.Add("recorder", "recording_started", $"recording started (video: {ScreenStatus(session, false)})", "ok");
            return new RecordAnswer("action_recording_started", ScreenStatus(session, stopped: false),
                session.ActionsFile, null, session.Video is not null ? session.VideoFile : null, session.EventsFile,
                Fps: request.Fps, Codec: session.Video?.Codec.Name, DisplayState: DisplayStateText(),
                Message: session.VideoMessage);
        }
    }

    /// <summary>
    /// SANDBOX_RECORD_MAX_SECONDS and _MAX_BYTES: checked every few seconds; past either, the recording is stopped
    /// (files finished as for a stop) with the reason in the journal footer, so a forgotten recording cannot fill
    /// the disk.
    /// </summary>
    private void WatchLimits(RecordingSession session)
    {
        if (_ro.MaxSeconds <= 0 && _ro.MaxBytes <= 0) return;
        var period = TimeSpan.FromMilliseconds(Math.Clamp(_ro.MaxSeconds * 1000L / 4, 200, 5000));
        Timer? timer = null;
        timer = new Timer(_ =>
        {
            if (!ReferenceEquals(_current, session)) { timer?.Dispose(); return; }
            string? reason = null;
            if (_ro.MaxSeconds > 0 && session.Clock.Now >= _ro.MaxSeconds) reason = "max_seconds";
            else if (_ro.MaxBytes > 0 && session.Bytes() + (_steps.Current?.Bytes ?? 0) >= _ro.MaxBytes) reason = "max_bytes";
            if (reason is null) return;
            timer?.Dispose();
            lock (_gate)
            {
                if (!ReferenceEquals(_current, session)) return;
                _log.LogWarning("recording {Stamp} reached its limit ({Reason}); stopping it", session.Stamp, reason);
            }
            try { Stop(reason); }
            catch (Exception e) when (e is IOException or InvalidOperationException or ObjectDisposedException) { _log.LogWarning("stopping at the limit failed: {Message}", e.Message); }
        }, null, period, period);
    }

    private void StartVideo(RecordingSession session, RecordStart request)
    {
        var ffmpeg = Lookup.Executable(_ro.Ffmpeg);
        if (ffmpeg is null)
        {
            session.VideoAbsence = VideoState.Unavailable;
            session.VideoMessage = $"ffmpeg ({_ro.Ffmpeg}) is not installed; recording actions only";
            return;
        }
        var codec = ScreenVideo.Choose(ffmpeg, request.Codec)!;
        try
        {
            var video = ScreenVideo.Start(ffmpeg, _options.Display!, session.Full(session.VideoFile), request.Fps, codec, _ro.VideoQuality, _log, _ro.MaxBytes);
            video.Failed += message => session.Note(new JournalNote
            {
                Event = "screen_recording_failed",
                Time = Math.Round(session.Clock.Now, 6),
                Timestamp = session.Clock.Stamp(session.Clock.Now),
                Message = message,
            });
            session.Video = video;
            session.VideoMessage = codec.Note;
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or IOException or InvalidOperationException)
        {
            session.VideoAbsence = VideoState.Failed;
            session.VideoMessage = $"cannot start ffmpeg: {e.Message}; recording actions only";
        }
    }

    public RecordAnswer Stop(string reason = "stop")
    {
        lock (_gate)
        {
            if (_current is not { } session)
                return new RecordAnswer("no_action_recording", "no_screen_recording", Message: "no recording is running");
            _current = null;
            var clean = _capture.Stop();
            session.Video?.Stop(_ro.StopTimeoutMs);
            var result = session.Finish(clean ? reason : reason + " (capture did not drain)");
            session.Video?.Dispose();
            var video = session.Video;
            var trajectory = _steps.End(video?.State == VideoState.Stopped ? session.Full(session.VideoFile) : null);
            var message = Join(video?.Error ?? (video is null ? session.VideoMessage : null), result.Error, trajectory?.Error,
                trajectory is { StepsDropped: > 0 } t ? $"{t.StepsDropped} steps past SANDBOX_RECORD_MAX_STEPS ({_ro.MaxSteps}) were not kept" : null);
            _log.LogInformation("recording {Stamp} stopped: {Events} events, {Actions} actions, video {Video}",
                session.Stamp, result.NumEvents, result.NumActions, ScreenStatus(session, true));
            _activity?.Add("recorder", "recording_stopped", $"recording stopped: {result.NumActions} actions → {result.ActionsFile}",
                result.Error is null ? "ok" : "error");
            return new RecordAnswer("action_recording_stopped", ScreenStatus(session, stopped: true),
                result.ActionsFile, result.NumActions, video?.State == VideoState.Stopped ? session.VideoFile : null,
                result.EventsFile, result.NumEvents, result.Duration, session.Fps, video?.Codec.Name, DisplayStateText(), message,
                trajectory is null ? null : "recordings/" + trajectory.Dir, trajectory?.NumSteps ?? (_ro.MaxSteps > 0 ? 0 : null),
                trajectory is { StepsDropped: > 0 } dropped ? dropped.StepsDropped : null);
        }
    }

    /// <summary>One recorded action, as the live view's activity list shows it.</summary>
    private void Report(ActionRecord a)
    {
        var (kind, text) = a switch
        {
            ClickAction c => ("click", $"{c.Button} {(c.Pressed ? "pressed" : "released")} at ({c.X}, {c.Y}){(c.Modifiers is { } m ? " with " + m : "")}"),
            TypedSequenceAction t => ("typed_sequence", $"typed \"{t.Text}\""),
            HotkeyAction h => ("hotkey", h.Key),
            ScrollAction sc => ("scroll", $"scroll dx={sc.Dx} dy={sc.Dy} at ({sc.X}, {sc.Y})"),
            DragAction d => ("drag", $"{d.Button} drag ({d.X}, {d.Y}) → ({d.EndX}, {d.EndY})"),
            _ => ("action", a.GetType().Name),
        };
        _activity!.Add("recorder", kind, text);
    }

    public RecordAnswer Status()
    {
        var session = _current;
        if (session is null)
            return new RecordAnswer("no_action_recording", "no_screen_recording", DisplayState: DisplayStateText());
        return new RecordAnswer("action_recording_in_progress", ScreenStatus(session, stopped: false),
            session.ActionsFile, session.NumActions, session.Video is not null ? session.VideoFile : null, session.EventsFile,
            session.NumEvents, Math.Round(session.Clock.Now, 3), session.Fps, session.Video?.Codec.Name, DisplayStateText(),
            Join(session.Video?.Error ?? session.VideoMessage, _capture.LastError, session.JournalError),
            NumSteps: _steps.Current?.Steps, StepsDropped: _steps.Current is { Dropped: > 0 } w ? w.Dropped : null);
    }

    public RecordingHealth Health()
    {
        var session = _current;
        if (session is null) return new RecordingHealth("idle", null, null, null);
        var state = _capture.State == CaptureState.Lost ? "display_lost" : "recording";
        return new RecordingHealth(state, session.NumEvents, ScreenStatus(session, false), _capture.LastError ?? session.Video?.Error);
    }

    /// <summary>Application shutdown: a running recording is finished properly.</summary>
    public void Shutdown()
    {
        if (_current is null) return;
        try { Stop("shutdown"); }
        catch (Exception e) { _log.LogError(e, "recording: stopping at shutdown failed"); }
    }

    private string? DisplayStateText() => _capture.State switch
    {
        CaptureState.Lost => "lost",
        CaptureState.Live => "connected",
        _ => null,
    };

    private static string ScreenStatus(RecordingSession s, bool stopped)
    {
        if (s.Video is { } v)
            return v.State switch
            {
                VideoState.Failed => "screen_recording_failed",
                VideoState.Stopped => "screen_recording_stopped",
                _ => stopped ? "screen_recording_stopped" : "screen_recording_started",
            };
        return s.VideoAbsence switch
        {
            VideoState.Unavailable => "ffmpeg_not_found",
            VideoState.Failed => "screen_recording_failed",
            _ => "screen_recording_disabled",
        };
    }

    private static string? Join(params string?[] parts)
    {
        var present = parts.Where(p => !string.IsNullOrEmpty(p)).Distinct().ToArray();
        return present.Length == 0 ? null : string.Join("; ", present);
    }

    private string UniqueStamp()
    {
        var baseStamp = DateTime.UtcNow.ToString("yyyyMMdd_HHmmss", CultureInfo.InvariantCulture);
        var stamp = baseStamp;
        for (var i = 2; File.Exists(Path.Combine(_options.RecordingDir, $"events-{stamp}.jsonl")); i++) stamp = $"{baseStamp}_{i}";
        return stamp;
    }

    /// <summary>
    /// Finishes journals a killed process left open: rebuilds their action list from the events and appends
    /// the footer. A journal still open in another process (it holds a lock) is left alone.
    /// </summary>
    public int RecoverUnfinished()
    {
        if (!Directory.Exists(_options.RecordingDir)) return 0;
        var recovered = 0;
        try
        {
            // Under the gate and only while no recording runs: then every private trajectory folder is a killed process's.
            lock (_gate)
                if (_current is null) TrajectoryWriter.RecoverUnfinished(_options.RecordingDir);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _log.LogDebug("recording: trajectories not recovered: {Message}", e.Message);
        }
        foreach (var path in Directory.EnumerateFiles(_options.RecordingDir, "events-*.jsonl"))
        {
            try
            {
                if (Recovery.TryFinish(path, _ro, _log)) recovered++;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                _log.LogDebug("recording: {Path} not recovered: {Message}", path, e.Message);
            }
        }
        return recovered;
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            Shutdown();
            _disposed = true;
        }
        _capture.Dispose();
    }
}
