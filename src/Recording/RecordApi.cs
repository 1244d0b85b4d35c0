using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Sandbox.Common;
using Sandbox.Web;
using System.Text.Json.Serialization;

namespace Sandbox.Recording;

/// <summary>The JSON body of <c>POST /record</c>: the query parameters of <c>GET /record</c>.</summary>
internal sealed record RecordRequest(string? Mode, int? Fps, string? Codec, bool? Video);

/// <summary>
/// <c>GET /record?mode=start|stop|status[&amp;fps=10&amp;codec=auto&amp;video=true]</c>, the old suite's
/// contract (see Recorder for the answer's keys), and <c>POST /record</c> with the same fields as JSON.
/// </summary>
internal static class RecordApi
{
    public static IEndpointRouteBuilder MapRecordApi(this IEndpointRouteBuilder app, Recorder recorder)
    {
        // GET is the old suite's contract and is kept for clients that are not browsers; a browser (it says so
        // with Origin or Sec-Fetch-Site) must POST JSON to start or stop, so an <img> or a link cannot.
        app.MapGet("/record", Task<IResult> (HttpContext http) =>
        {
            var q = http.Request.Query;
            var mode = Mode(q["mode"]);
            if (mode is "start" or "stop" && SentByBrowser(http.Request))
                throw SandboxException.Forbidden($"a browser must POST /record with a JSON body to {mode} a recording");
            return Run(recorder, mode, name => q[name]);
        });
        app.MapPost("/record", async Task<IResult> (HttpContext http) =>
        {
            var body = await JsonBody.ReadAsync(http.Request, RecordApiJson.Default.RecordRequest, allowEmpty: true, http.RequestAborted);
            var q = http.Request.Query;
            string? Get(string name) => name switch
            {
                "fps" => body?.Fps?.ToString(System.Globalization.CultureInfo.InvariantCulture),
                "codec" => body?.Codec,
                "video" => body?.Video?.ToString(),
                _ => null,
            } ?? q[name];
            return await Run(recorder, Mode(body?.Mode ?? q["mode"]), Get);
        });
        return app;
    }

    private static string Mode(string? mode) => (mode ?? "status").Trim().ToLowerInvariant();

    private static bool SentByBrowser(HttpRequest r) =>
        r.Headers.Origin.Count > 0 || r.Headers["Sec-Fetch-Site"].Count > 0 || r.Headers["Sec-Fetch-Mode"].Count > 0;

    private static async Task<IResult> Run(Recorder recorder, string mode, Func<string, string?> get)
    {
        RecordAnswer answer;
        switch (mode)
        {
            case "start":
                var request = ParseStart(get, recorder.Options);
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
                throw SandboxException.BadField("mode", $"mode={mode}: expected start, stop or status");
        }
        return Results.Json(answer, RecordApiJson.Default.RecordAnswer);
    }

    private static RecordStart ParseStart(Func<string, string?> q, RecordingOptions o)
    {
        var fps = o.DefaultFps;
        if (q("fps") is { Length: > 0 } f)
        {
            // The old suite took fps as a number; "10.0" is accepted when it is whole.
            if (!double.TryParse(f, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var v)
                || v != Math.Floor(v) || v < 1 || v > o.MaxFps)
                throw SandboxException.BadField("fps", $"fps={f}: expected a whole number from 1 to {o.MaxFps}");
            fps = (int)v;
        }
        var video = true;
        if (q("video") is { Length: > 0 } s)
            video = Lookup.Flag(s) ?? throw SandboxException.BadField("video", $"video={s}: expected true or false");
        var codec = q("codec");
        if (codec is { Length: > 0 } && !ScreenVideo.IsKnownCodec(codec))
            throw SandboxException.BadField("codec", $"codec={codec}: expected auto, h264 (avc1, x264) or mpeg4 (mp4v, xvid)");
        return new RecordStart(fps, codec, video);
    }

    /// <summary>A full SHARED_DIR is 507, as for screenshots.</summary>
    private static RecordAnswer Storage(Func<RecordAnswer> action)
    {
        try
        {
            return action();
        }
        catch (IOException e) when (IoErrors.IsDiskFull(e))
        {
            throw SandboxException.StorageFull($"SHARED_DIR is full: {e.Message}");
        }
        catch (RecordingUnavailableException e)
        {
            throw SandboxException.Unavailable(e.Message);
        }
    }
}

/// <summary>The /record answer and request (the journal and action files have their own context, RecordingJson).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(RecordAnswer))]
[JsonSerializable(typeof(RecordRequest))]
internal sealed partial class RecordApiJson : JsonSerializerContext;
