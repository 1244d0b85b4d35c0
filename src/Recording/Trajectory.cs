using System.Buffers;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Sandbox.Common;
using Sandbox.Native;

namespace Sandbox.Recording;

/// <summary>
/// Writes a full-size PNG of the screen as it is now (the cursor drawn in, no annotation) into the stream. The
/// composition root builds it from the capture area's screenshot service: the recording area never captures itself.
/// </summary>
internal delegate void StepScreenshot(Stream png);

/// <summary>What a recording's trajectory left at stop: its folder (a name in the recordings directory), the steps kept and dropped.</summary>
internal sealed record TrajectoryResult(string Dir, int NumSteps, int StepsDropped, string? Error);

/// <summary>
/// One line of <c>traj.jsonl</c>: OSWorld's keys first, in its order (<c>step_num</c>, <c>action_timestamp</c>
/// <c>%Y%m%d@%H%M%S</c>, <c>action</c>, <c>reward</c>, <c>done</c>, <c>info</c>, <c>screenshot_file</c>), then ours
/// (<c>source</c>, <c>result</c>, <c>timestamp</c>, <c>time</c>, and <c>screenshot_error</c> when there is no PNG).
/// The action and the result are embedded as the JSON they were; text that is not JSON is kept as a string.
/// </summary>
internal static class TrajectoryLine
{
    public static string ActionTimestamp(DateTime utc) => utc.ToString("yyyyMMdd'@'HHmmss", CultureInfo.InvariantCulture);

    public static string ScreenshotName(int step, string actionTimestamp) => $"step_{step}_{actionTimestamp}.png";

    private static readonly JsonWriterOptions s_options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <param name="utc">When the step was journaled (right after the action, when its screenshot was taken).</param>
    /// <param name="time">The same moment in seconds since the recording started (the event journal's and the video's clock).</param>
    public static byte[] Write(int step, DateTime utc, double time, string source, string actionJson, string resultJson,
        string? screenshotFile, string? screenshotError)
    {
        var buffer = new ArrayBufferWriter<byte>(256 + actionJson.Length + resultJson.Length);
        using (var w = new Utf8JsonWriter(buffer, s_options))
        {
            var (done, info) = Outcome(actionJson);
            w.WriteStartObject();
            w.WriteNumber("step_num", step);
            w.WriteString("action_timestamp", ActionTimestamp(utc));
            w.WritePropertyName("action");
            Embed(w, actionJson);
            w.WriteNumber("reward", 0);
            w.WriteBoolean("done", done);
            w.WriteStartObject("info");
            if (info is not null) w.WriteBoolean(info, true);
            w.WriteEndObject();
            if (screenshotFile is null) w.WriteNull("screenshot_file");
            else w.WriteString("screenshot_file", screenshotFile);
            w.WriteString("source", source);
            w.WritePropertyName("result");
            Embed(w, resultJson);
            w.WriteString("timestamp", InputEvent.FormatTimestamp(utc));
            w.WriteNumber("time", Math.Round(time, 6));
            if (screenshotError is not null) w.WriteString("screenshot_error", screenshotError);
            w.WriteEndObject();
        }
        buffer.Write("\n"u8);
        return buffer.WrittenSpan.ToArray();
    }

    private static void Embed(Utf8JsonWriter w, string json)
    {
        if (IsOneJsonValue(json)) w.WriteRawValue(json, skipInputValidation: true);
        else w.WriteStringValue(json);
    }

    private static bool IsOneJsonValue(string text)
    {
        if (string.IsNullOrWhiteSpace(text)) return false;
        try
        {
            var reader = new Utf8JsonReader(Encoding.UTF8.GetBytes(text), new JsonReaderOptions { MaxDepth = 256 });
            if (!reader.Read()) return false;
            reader.Skip();
            return !reader.Read();
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>
    /// OSWorld ends an episode with the DONE or FAIL action (the string <c>"DONE"</c> in its pyautogui action space,
    /// <c>{"action_type": "DONE"}</c> in computer_13): such a step is <c>done: true</c> with <c>info: {"done": true}</c>
    /// or <c>{"fail": true}</c>, as its environment's step answers. Every other step is <c>done: false</c>, <c>info: {}</c>.
    /// </summary>
    private static (bool Done, string? Info) Outcome(string actionJson)
    {
        if (!actionJson.Contains("DONE", StringComparison.Ordinal) && !actionJson.Contains("FAIL", StringComparison.Ordinal)) return (false, null);
        try
        {
            using var doc = JsonDocument.Parse(actionJson);
            var root = doc.RootElement;
            var name = root.ValueKind switch
            {
                JsonValueKind.String => root.GetString(),
                JsonValueKind.Object when root.TryGetProperty("action_type", out var t) && t.ValueKind == JsonValueKind.String => t.GetString(),
                _ => null,
            };
            return name switch
            {
                "DONE" => (true, "done"),
                "FAIL" => (true, "fail"),
                _ => (false, null),
            };
        }
        catch (JsonException)
        {
            return (false, null);
        }
    }
}

/// <summary>
/// One recording's trajectory on disk. While the recording runs everything goes into a private folder,
/// <c>recordings/.trajectory-&lt;ts&gt;/</c>: <c>step_0.png</c> (the screen at the start), then per step its PNG
/// (<c>step_&lt;n&gt;_&lt;timestamp&gt;.png</c>, written straight from the encoder to the file) and one
/// <c>traj.jsonl</c> line, appended with one write as the step comes, so memory stays flat however long the run.
/// <see cref="Finish"/> renames the folder to <c>trajectory-&lt;ts&gt;</c> (OSWorld's result-folder layout) and adds
/// the video as <c>recording.mp4</c> (a hard link, no copy). Steps past the bound are counted, not written.
/// One lock orders steps: numbers, files and lines agree.
/// </summary>
internal sealed class TrajectoryWriter
{
    public const string LinesFile = "traj.jsonl";
    public const string InitialScreenshot = "step_0.png";
    public const string VideoName = "recording.mp4";

    private readonly object _gate = new();
    private readonly StepScreenshot? _shoot;
    private readonly int _maxSteps;
    private readonly FileStream _lines;
    private bool _closed;
    private int _steps;
    private int _dropped;
    private long _bytes;
    private string? _error;

    public TrajectoryWriter(string recordingDir, string stamp, RecordingClock clock, StepScreenshot? shoot, int maxSteps)
    {
        RecordingDir = recordingDir;
        Name = "trajectory-" + stamp;
        PartialDir = Path.Combine(recordingDir, "." + Name);
        Clock = clock;
        _shoot = shoot;
        _maxSteps = maxSteps;
        PrivateFiles.CreateDirectory(PartialDir);
        // Readers may follow it while the recording runs (tail -f); only we write.
        _lines = PrivateFiles.Create(Path.Combine(PartialDir, LinesFile), FileMode.CreateNew, 1 << 14, FileShare.Read);
    }

    public string RecordingDir { get; }
    /// <summary>The folder's final name, <c>trajectory-&lt;ts&gt;</c>.</summary>
    public string Name { get; }
    public string PartialDir { get; }
    public RecordingClock Clock { get; }
    public int Steps { get { lock (_gate) return _steps; } }
    public int Dropped { get { lock (_gate) return _dropped; } }
    /// <summary>Bytes written so far (PNGs and lines), counted against SANDBOX_RECORD_MAX_BYTES.</summary>
    public long Bytes => Interlocked.Read(ref _bytes);
    public string? Error { get { lock (_gate) return _error; } }

    /// <summary>step_0.png: the screen when the recording started (OSWorld's first observation).</summary>
    public void Initial()
    {
        lock (_gate)
        {
            if (_closed) return;
            if (Shoot(InitialScreenshot) is { } error) _error ??= "step_0.png: " + error;
        }
    }

    /// <summary>Keeps one step: its screenshot now, then its line. Returns the step number, or 0 when it was not kept.</summary>
    public int Add(string source, string actionJson, string resultJson)
    {
        lock (_gate)
        {
            if (_closed) return 0;
            if (_steps >= _maxSteps)
            {
                _dropped++;
                return 0;
            }
            var n = ++_steps;
            var time = Clock.Now;
            var utc = Clock.StartedUtc.AddTicks((long)Math.Round(time * TimeSpan.TicksPerSecond));
            var file = TrajectoryLine.ScreenshotName(n, TrajectoryLine.ActionTimestamp(utc));
            var shotError = Shoot(file);
            var line = TrajectoryLine.Write(n, utc, time, source, actionJson, resultJson, shotError is null ? file : null, shotError);
            try
            {
                _lines.Write(line);
                _lines.Flush();
                Interlocked.Add(ref _bytes, line.Length);
            }
            catch (IOException e)
            {
                _error ??= $"cannot write {LinesFile}: {e.Message}";
            }
            return n;
        }
    }

    /// <summary>Writes one PNG into the private folder; returns why it could not (the step is kept without it).</summary>
    private string? Shoot(string name)
    {
        if (_shoot is null) return "no screenshot source";
        var path = Path.Combine(PartialDir, name);
        try
        {
            using var file = PrivateFiles.Create(path, FileMode.CreateNew, 1 << 16);
            _shoot(file);
            Interlocked.Add(ref _bytes, file.Length);
            return null;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // No display, a full disk: the step is still journaled, with the reason instead of the file.
            try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            return e.Message;
        }
    }

    /// <summary>
    /// Closes traj.jsonl and publishes the folder under its final name with the video beside the steps. A trajectory
    /// without steps leaves nothing (its folder is removed). Later steps are ignored.
    /// </summary>
    /// <param name="videoPath">The finished screen video, or null.</param>
    public TrajectoryResult? Finish(string? videoPath)
    {
        lock (_gate)
        {
            if (_closed) return null;
            _closed = true;
            try { _lines.Flush(flushToDisk: true); }
            catch (IOException e) { _error ??= $"cannot write {LinesFile}: {e.Message}"; }
            _lines.Dispose();
            if (_steps == 0 && _dropped == 0)
            {
                Remove(PartialDir);
                return null;
            }
            var final = Path.Combine(RecordingDir, Name);
            try
            {
                Directory.Move(PartialDir, final);
            }
            catch (IOException e)
            {
                return new TrajectoryResult("." + Name, _steps, _dropped, _error ?? $"cannot rename .{Name} to {Name}: {e.Message}");
            }
            if (videoPath is not null && File.Exists(videoPath) && HardLink(videoPath, Path.Combine(final, VideoName)) is { } linkError)
                _error ??= $"{VideoName}: {linkError}";
            return new TrajectoryResult(Name, _steps, _dropped, _error);
        }
    }

    /// <summary>The recording failed to start: nothing of it stays.</summary>
    public void Discard()
    {
        lock (_gate)
        {
            if (_closed) return;
            _closed = true;
            _lines.Dispose();
            Remove(PartialDir);
        }
    }

    /// <summary>
    /// Publishes the private folders a killed process left (their lines were written as the steps came): a last line
    /// cut off mid-write is dropped, the folder gets its final name and the recording's video as recording.mp4.
    /// Returns how many were recovered.
    /// </summary>
    public static int RecoverUnfinished(string recordingDir)
    {
        var recovered = 0;
        foreach (var dir in Directory.EnumerateDirectories(recordingDir, ".trajectory-*"))
        {
            var name = Path.GetFileName(dir)[1..];
            var final = Path.Combine(recordingDir, name);
            if (Directory.Exists(final)) continue;
            var lines = Path.Combine(dir, LinesFile);
            if (File.Exists(lines))
            {
                var bytes = File.ReadAllBytes(lines);
                var end = Array.LastIndexOf(bytes, (byte)'\n') + 1;
                if (end < bytes.Length)
                    using (var f = new FileStream(lines, FileMode.Open, FileAccess.Write)) f.SetLength(end);
                if (end == 0)
                {
                    Remove(dir);
                    continue;
                }
            }
            Directory.Move(dir, final);
            // The killed recording's video (its watchdog has ffmpeg finish the file; a hard link follows it).
            var video = Path.Combine(recordingDir, "screen-recording-" + name["trajectory-".Length..] + ".mp4");
            if (File.Exists(video) && !File.Exists(Path.Combine(final, VideoName))) HardLink(video, Path.Combine(final, VideoName));
            recovered++;
        }
        return recovered;
    }

    private static void Remove(string dir)
    {
        try { Directory.Delete(dir, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    private static unsafe string? HardLink(string existing, string link)
    {
        var from = Encoding.UTF8.GetBytes(existing + "\0");
        var to = Encoding.UTF8.GetBytes(link + "\0");
        fixed (byte* f = from)
        fixed (byte* t = to)
        {
            if (Libc.link(f, t) == 0) return null;
        }
        return $"link failed (errno {Marshal.GetLastPInvokeError()})";
    }
}

/// <summary>
/// The recording's <see cref="IStepJournal"/>: active while a recording runs (and trajectories are on,
/// <c>SANDBOX_RECORD_MAX_STEPS</c> &gt; 0). The acting areas report each step after it ran; the screenshot is taken
/// then, before the client gets its answer, so it shows the screen after that step and before the client's next one.
/// </summary>
internal sealed class TrajectoryJournal(RecordingOptions options, StepScreenshot? shoot, ILogger log) : IStepJournal
{
    private volatile TrajectoryWriter? _writer;

    public bool Active => _writer is not null;

    /// <summary>The running trajectory (for status and the size limit), or null.</summary>
    public TrajectoryWriter? Current => _writer;

    /// <summary>Starts the trajectory of a recording that starts: its private folder and step_0.png.</summary>
    internal void Begin(string recordingDir, string stamp, RecordingClock clock)
    {
        if (options.MaxSteps <= 0) return;
        var writer = new TrajectoryWriter(recordingDir, stamp, clock, shoot, options.MaxSteps);
        writer.Initial();
        _writer = writer;
    }

    /// <summary>Ends the running trajectory: steps reported from now on are ignored; one in progress finishes first.</summary>
    internal TrajectoryResult? End(string? videoPath)
    {
        var writer = _writer;
        _writer = null;
        if (writer is null) return null;
        var result = writer.Finish(videoPath);
        if (result?.Error is { } e) log.LogWarning("recording: trajectory {Dir}: {Error}", result.Dir, e);
        return result;
    }

    /// <remarks>The step has run whatever the client does now: <paramref name="cancellationToken"/> does not stop it being journaled.</remarks>
    public async ValueTask AddAsync(string source, string actionJson, string resultJson, CancellationToken cancellationToken)
    {
        if (_writer is not { } writer) return;
        // Capture and PNG encoding are synchronous work on the capture connection: off the request thread.
        await Task.Run(() => writer.Add(source, actionJson, resultJson), CancellationToken.None).ConfigureAwait(false);
    }
}
