using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Sandbox.Hosting;
using Sandbox.Recording;
using Sandbox.Common;

namespace Sandbox.Api;

/// <summary>
/// <c>GET /record?mode=start|stop|status[&amp;fps=10&amp;codec=auto&amp;video=true]</c>, the old suite's
/// contract (see Recorder for the answer's keys).
/// </summary>
internal static class RecordApi
{
    public static IEndpointRouteBuilder MapRecordApi(this IEndpointRouteBuilder app, Recorder recorder)
    {
        app.MapGet("/record", async Task<IResult> (HttpContext http) =>
        {
            var q = http.Request.Query;
            var mode = ((string?)q["mode"] ?? "status").Trim().ToLowerInvariant();
            RecordAnswer answer;
            switch (mode)
            {
                case "start":
                    var request = ParseStart(q, recorder.Options);
                    // Start and stop wait on the X server and ffmpeg; keep them off the request threads' fast path.
                    answer = await Task.Run(() => Storage(() => recorder.Start(request)));
                    break;
                case "stop":
                    answer = await Task.Run(() => Storage(() => recorder.Stop()));
                    break;
                case "status":
                    answer = recorder.Status();
                    break;
                default:
                    throw SandboxException.BadRequest($"mode={mode}: expected start, stop or status");
            }
            return Results.Json(answer, AppJson.Default.RecordAnswer);
        });
        return app;
    }

    private static RecordStart ParseStart(IQueryCollection q, RecordingOptions o)
    {
        var fps = o.DefaultFps;
        if ((string?)q["fps"] is { Length: > 0 } f)
        {
            // The old suite took fps as a number; "10.0" is accepted when it is whole.
            if (!double.TryParse(f, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var v)
                || v != Math.Floor(v) || v < 1 || v > o.MaxFps)
                throw SandboxException.BadRequest($"fps={f}: expected a whole number from 1 to {o.MaxFps}");
            fps = (int)v;
        }
        var video = true;
        if ((string?)q["video"] is { Length: > 0 } s)
            video = s.Trim().ToLowerInvariant() switch
            {
                "1" or "true" or "yes" or "on" => true,
                "0" or "false" or "no" or "off" => false,
                _ => throw SandboxException.BadRequest($"video={s}: expected true or false"),
            };
        var codec = (string?)q["codec"];
        if (codec is { Length: > 0 } && !KnownCodec(codec))
            throw SandboxException.BadRequest($"codec={codec}: expected auto, h264 (avc1, x264) or mpeg4 (mp4v, xvid)");
        return new RecordStart(fps, codec, video);
    }

    private static bool KnownCodec(string c) => c.Trim().ToLowerInvariant() is
        "auto" or "default" or "h264" or "avc" or "avc1" or "x264" or "libx264" or "h.264" or
        "mpeg4" or "mp4v" or "xvid" or "divx" or "fmp4" or "mp4";

    /// <summary>A full SHARED_DIR is 507, as for screenshots.</summary>
    private static RecordAnswer Storage(Func<RecordAnswer> action)
    {
        try
        {
            return action();
        }
        catch (IOException e) when ((e.HResult & 0xffff) == 28 || e.Message.Contains("No space left", StringComparison.Ordinal))
        {
            throw SandboxException.StorageFull($"SHARED_DIR is full: {e.Message}");
        }
        catch (RecordingUnavailableException e)
        {
            throw SandboxException.Unavailable(e.Message);
        }
    }
}
