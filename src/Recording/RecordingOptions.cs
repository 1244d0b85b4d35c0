using Sandbox.Common;

namespace Sandbox.Recording;

/// <summary>Limits and defaults of /record, from <c>SANDBOX_RECORD_*</c> (README "Configuration").</summary>
internal sealed class RecordingOptions
{
    /// <summary>Shortest interval between two journaled pointer motions, ms; 0 keeps every motion.</summary>
    public int MotionIntervalMs { get; init; } = 10;
    /// <summary>A pause longer than this ends a typed_sequence, ms.</summary>
    public int TypingPauseMs { get; init; } = 1500;
    /// <summary>How far a pressed pointer must move to make a drag, pixels.</summary>
    public int DragThresholdPx { get; init; } = 5;
    /// <summary>fsync of the journal at most this often while events arrive, ms; 0 never (kill -9 is safe either way).</summary>
    public int FsyncIntervalMs { get; init; } = 1000;
    /// <summary>
    /// While input is quiet, make the X server flush recorded events at least this often, ms (a round trip
    /// on the control connection); 0 never (then, on a display where no application receives the input,
    /// up to 31 events may wait in the server until more arrive).
    /// </summary>
    public int FlushIntervalMs { get; init; } = 50;
    /// <summary>Delay between attempts to reach a lost X server during a recording, ms.</summary>
    public int ReconnectIntervalMs { get; init; } = 1000;
    /// <summary>How long stop waits for the X server's end of data and for ffmpeg to finish its file, ms.</summary>
    public int StopTimeoutMs { get; init; } = 10_000;
    public int DefaultFps { get; init; } = 10;
    public int MaxFps { get; init; } = 60;
    /// <summary>The ffmpeg executable (name on PATH or a path).</summary>
    public string Ffmpeg { get; init; } = "ffmpeg";
    /// <summary>Constant rate factor for H.264 (higher is smaller); MPEG-4 uses a matching qscale.</summary>
    public int VideoQuality { get; init; } = 28;
    /// <summary>A recording longer than this is stopped as if asked to (<c>SANDBOX_RECORD_MAX_SECONDS</c>; 0 = no limit).</summary>
    public int MaxSeconds { get; init; } = 4 * 3600;
    /// <summary>A recording whose files (video + journal) grow past this is stopped (<c>SANDBOX_RECORD_MAX_BYTES</c>; 0 = no limit).</summary>
    public long MaxBytes { get; init; } = 4L << 30;
    /// <summary>
    /// Agent steps (action requests) a recording's trajectory keeps (<c>SANDBOX_RECORD_MAX_STEPS</c>); later steps are
    /// counted in <c>steps_dropped</c> and not written. 0 = no trajectories.
    /// </summary>
    public int MaxSteps { get; init; } = 1000;

    public static RecordingOptions FromEnvironment(EnvReader r) => new()
    {
        MotionIntervalMs = r.Int("SANDBOX_RECORD_MOTION_MS", 10, 0, 10_000),
        TypingPauseMs = r.Int("SANDBOX_RECORD_TYPING_PAUSE_MS", 1500, 1, 600_000),
        DragThresholdPx = r.Int("SANDBOX_RECORD_DRAG_PX", 5, 1, 10_000),
        FsyncIntervalMs = r.Int("SANDBOX_RECORD_FSYNC_MS", 1000, 0, 600_000),
        FlushIntervalMs = r.Int("SANDBOX_RECORD_FLUSH_MS", 50, 0, 60_000),
        ReconnectIntervalMs = r.Int("SANDBOX_RECORD_RECONNECT_MS", 1000, 10, 600_000),
        StopTimeoutMs = r.Int("SANDBOX_RECORD_STOP_TIMEOUT_MS", 10_000, 100, 600_000),
        DefaultFps = r.Int("SANDBOX_RECORD_FPS", 10, 1, 60),
        MaxFps = 60,
        Ffmpeg = r.String("SANDBOX_FFMPEG") ?? "ffmpeg",
        VideoQuality = r.Int("SANDBOX_RECORD_VIDEO_QUALITY", 28, 0, 51),
        MaxSeconds = r.Int("SANDBOX_RECORD_MAX_SECONDS", 4 * 3600, 0, int.MaxValue),
        MaxBytes = r.Long("SANDBOX_RECORD_MAX_BYTES", 4L << 30, 0, long.MaxValue),
        MaxSteps = r.Int("SANDBOX_RECORD_MAX_STEPS", 1000, 0, 1_000_000),
    };

    public ActionBuilderOptions Builder => new(TypingPauseMs / 1000.0, DragThresholdPx);
}
