using Sandbox.Common;
using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Sandbox.Recording;

internal enum VideoState { Disabled, Unavailable, Recording, Failed, Stopped }

/// <summary>The encoder ffmpeg will use, and what the request asked for.</summary>
internal sealed record VideoCodec(string Encoder, string Name, string? Note);

/// <summary>
/// Screen video through ffmpeg's x11grab (cursor drawn by ffmpeg), supervised.
/// <para>
/// ffmpeg runs under a small /bin/sh watchdog whose stdin is a pipe from us: a line on it, or the pipe
/// closing because this process died (even by SIGKILL), makes the watchdog send ffmpeg SIGTERM, on which
/// ffmpeg finishes the MP4 (writes its index) and exits. So a killed appliance leaves a playable video and
/// no orphan ffmpeg recording forever. The watchdog exits with ffmpeg's status, so an ffmpeg that dies on
/// its own is noticed at once (state <see cref="VideoState.Failed"/>, reported at stop).
/// </para>
/// </summary>
internal sealed class ScreenVideo : IDisposable
{
    // A background list's stdin is /dev/null unless redirected explicitly, hence the copy on fd 3.
    private const string Watchdog =
        "exec 3<&0\n" +
        "\"$@\" </dev/null 3<&- & ff=$!\n" +
        "( read -r _ <&3; kill -TERM $ff 2>/dev/null ) & rd=$!\n" +
        "exec 3<&-\n" +
        "wait $ff; code=$?\n" +
        "kill $rd 2>/dev/null\n" +
        "exit $code\n";

    private static readonly object s_encodersLock = new();
    private static readonly Dictionary<string, HashSet<string>> s_encoders = [];

    private readonly Process _process;
    private readonly ILogger _log;
    private readonly StringBuilder _stderr = new();
    private readonly Stopwatch _running = Stopwatch.StartNew();
    private volatile bool _stopping;

    private ScreenVideo(Process process, string path, VideoCodec codec, int fps, ILogger log)
    {
        _process = process;
        Path = path;
        Codec = codec;
        Fps = fps;
        _log = log;
    }

    public string Path { get; }
    public VideoCodec Codec { get; }
    public int Fps { get; }
    public VideoState State { get; private set; } = VideoState.Recording;
    public string? Error { get; private set; }

    // The codec names a request may give: ours and the OpenCV fourcc names the old suite accepted.
    private static readonly string[] AutoNames = ["", "auto", "default"];
    private static readonly string[] H264Names = ["h264", "avc", "avc1", "x264", "libx264", "h.264"];
    private static readonly string[] Mpeg4Names = ["mpeg4", "mp4v", "xvid", "divx", "fmp4", "mp4"];

    /// <summary>True for a codec name <see cref="Choose"/> knows (checked before anything starts).</summary>
    public static bool IsKnownCodec(string name)
    {
        var n = name.Trim().ToLowerInvariant();
        return AutoNames.Contains(n) || H264Names.Contains(n) || Mpeg4Names.Contains(n);
    }

    /// <summary>
    /// Maps the request's codec (ours or OpenCV fourcc names the old suite accepted) to an encoder this ffmpeg
    /// has: H.264 (libx264) when present, else MPEG-4 part 2. Null for a name we do not know.
    /// </summary>
    public static VideoCodec? Choose(string ffmpegPath, string? requested)
    {
        var encoders = Encoders(ffmpegPath);
        var hasH264 = encoders.Contains("libx264");
        var wanted = (requested ?? "").Trim().ToLowerInvariant();
        switch (wanted)
        {
            case var c when AutoNames.Contains(c):
                return hasH264 ? new("libx264", "h264", null) : new("mpeg4", "mpeg4", "this ffmpeg has no H.264 encoder; using MPEG-4");
            case var c when H264Names.Contains(c):
                return hasH264 ? new("libx264", "h264", null) : new("mpeg4", "mpeg4", "this ffmpeg has no H.264 encoder (libx264); using MPEG-4");
            case var c when Mpeg4Names.Contains(c):
                return new("mpeg4", "mpeg4", null);
            default:
                return null;
        }
    }

    private static HashSet<string> Encoders(string ffmpegPath)
    {
        lock (s_encodersLock)
        {
            if (s_encoders.TryGetValue(ffmpegPath, out var known)) return known;
            var set = new HashSet<string>(StringComparer.Ordinal);
            try
            {
                var psi = new ProcessStartInfo(ffmpegPath) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
                foreach (var a in new[] { "-hide_banner", "-encoders" }) psi.ArgumentList.Add(a);
                using var p = Process.Start(psi)!;
                var errors = p.StandardError.ReadToEndAsync();
                foreach (var line in p.StandardOutput.ReadToEnd().Split('\n'))
                {
                    // " V....D libx264   libx264 H.264 / AVC ..."
                    var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    if (parts.Length >= 2 && parts[0].Length == 6 && parts[0][0] == 'V') set.Add(parts[1]);
                }
                p.WaitForExit(10_000);
                _ = errors;
            }
            catch (Exception e) when (e is System.ComponentModel.Win32Exception or IOException or InvalidOperationException)
            {
                // An ffmpeg that cannot list encoders gets MPEG-4, which every build has.
            }
            s_encoders[ffmpegPath] = set;
            return set;
        }
    }

    public static ScreenVideo Start(string ffmpegPath, string display, string path, int fps, VideoCodec codec, int quality, ILogger log, long maxBytes = 0)
    {
        var psi = new ProcessStartInfo("/bin/sh")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = false,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.Environment["DISPLAY"] = display;
        var args = new List<string> { "-c", Watchdog, "sandbox-ffmpeg", ffmpegPath,
            "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
            "-f", "x11grab", "-draw_mouse", "1", "-framerate", fps.ToString(), "-i", display,
            // yuv420p needs even sizes; a no-op on the usual screens.
            "-vf", "crop=trunc(iw/2)*2:trunc(ih/2)*2", "-pix_fmt", "yuv420p", "-r", fps.ToString(),
            "-g", Math.Max(1, fps * 2).ToString() };
        if (codec.Encoder == "libx264")
            args.AddRange(["-c:v", "libx264", "-preset", "ultrafast", "-crf", quality.ToString()]);
        else
            args.AddRange(["-c:v", "mpeg4", "-q:v", Math.Clamp(quality / 5, 2, 31).ToString()]);
        // A backstop for SANDBOX_RECORD_MAX_BYTES; the recorder stops the whole recording at the limit.
        if (maxBytes > 0) args.AddRange(["-fs", maxBytes.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        args.Add(path);
        foreach (var a in args) psi.ArgumentList.Add(a);
        // Made here with the private mode; ffmpeg (-y) truncates and keeps it.
        PrivateFiles.Touch(path);

        var process = new Process { StartInfo = psi, EnableRaisingEvents = true };
        var video = new ScreenVideo(process, path, codec, fps, log);
        process.ErrorDataReceived += (_, e) => video.OnStderr(e.Data);
        process.Exited += (_, _) => video.OnExited();
        process.Start();
        process.BeginErrorReadLine();
        return video;
    }

    private void OnStderr(string? line)
    {
        if (line is null) return;
        lock (_stderr)
        {
            if (_stderr.Length > 4096) _stderr.Remove(0, _stderr.Length - 2048);
            _stderr.AppendLine(line);
        }
    }

    private void OnExited()
    {
        if (_stopping) return;
        int code;
        try { code = _process.ExitCode; } catch (InvalidOperationException) { code = -1; }
        State = VideoState.Failed;
        Error = $"ffmpeg exited with code {code} after {_running.Elapsed.TotalSeconds:F1} s of recording{StderrTail()}";
        _log.LogWarning("screen recording: {Error}", Error);
        Failed?.Invoke(Error);
    }

    /// <summary>Raised (on a thread-pool thread) when ffmpeg ends by itself.</summary>
    public event Action<string>? Failed;

    /// <summary>Asks ffmpeg to finish the file and waits for it; kills it after the timeout.</summary>
    public void Stop(int timeoutMs)
    {
        if (State != VideoState.Recording) return;
        _stopping = true;
        try
        {
            _process.StandardInput.WriteLine("stop");
            _process.StandardInput.Close();
        }
        catch (IOException) { }
        if (!_process.WaitForExit(timeoutMs))
        {
            try { _process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            _process.WaitForExit(2000);
            State = VideoState.Failed;
            Error = $"ffmpeg did not finish the video within {timeoutMs} ms and was killed";
            return;
        }
        _process.WaitForExit();   // drains the stderr reader
        var code = _process.ExitCode;
        // 255 is ffmpeg's status after a signal asked it to stop; it still wrote a complete file.
        if (code is not (0 or 255) || !File.Exists(Path) || new FileInfo(Path).Length == 0)
        {
            State = VideoState.Failed;
            Error = $"ffmpeg exited with code {code}{StderrTail()}";
            return;
        }
        State = VideoState.Stopped;
    }

    private string StderrTail()
    {
        lock (_stderr)
        {
            var s = _stderr.ToString().Trim();
            if (s.Length > 600) s = s[^600..];
            return s.Length == 0 ? "" : ": " + s.Replace('\n', ' ');
        }
    }

    public void Dispose()
    {
        Stop(5000);
        _process.Dispose();
    }
}
