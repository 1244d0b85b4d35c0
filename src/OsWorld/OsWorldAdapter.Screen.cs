using Microsoft.AspNetCore.Http;
using Sandbox.Accessibility;
using Sandbox.Capture;
using Sandbox.Common;
using Sandbox.Recording;

namespace Sandbox.OsWorld;

/// <summary>The screen, accessibility, terminal and recording routes.</summary>
internal sealed partial class OsWorldAdapter
{
    private static readonly ScreenshotRequest Screenshot = new()
    {
        Format = ImageFormat.Png, Cursor = true, Annotate = false, Response = ScreenshotResponse.Image,
    };

    /// <summary>GET /screenshot: the PNG with the cursor composited at the pointer (its hotspot aligned).</summary>
    public async Task ScreenshotAsync(HttpContext http)
    {
        // The capture area's kept encode itself, no copy, held until sent (docs/performance.md, "Memory").
        using var lease = screenshots.RenderLease(Screenshot);
        var buffer = lease.Bytes;
        http.Response.ContentType = "image/png";
        http.Response.ContentLength = buffer.Length;
        await buffer.WriteToAsync(http.Response.Body, http.RequestAborted);
    }

    /// <summary>GET /accessibility: <c>{"AT": xml}</c> of the whole desktop, in OSWorld's namespaces.</summary>
    public async Task<IResult> AccessibilityAsync(HttpContext http)
    {
        var tree = await accessibility.GetTreeAsync(new TreeQuery(), http.RequestAborted);
        return Results.Json(new OsWorldAnswer(OsWorldXml.Write(tree.Apps)), AccessibilityJson.Default.OsWorldAnswer);
    }

    /// <summary>
    /// GET /terminal: the text of the focused terminal in the active terminal window, read from the
    /// accessibility tree as OSWorld does (it looks in gnome-terminal-server; any application's terminal
    /// counts here, gnome-terminal-server's first), right-trimmed; <c>null</c> when there is none.
    /// </summary>
    public async Task<IResult> TerminalAsync(HttpContext http)
    {
        string? output = null;
        try
        {
            var tree = await accessibility.GetTreeAsync(new TreeQuery(), http.RequestAborted);
            var candidates = tree.Apps.OrderBy(a => a.Name == "gnome-terminal-server" ? 0 : 1);
            foreach (var app in candidates)
            {
                var terminals = app.Children
                    .Where(f => f.RoleName == "frame" && f.HasState(AtspiNames.Active))
                    .SelectMany(f => f.DescendantsAndSelf())
                    .Where(n => n.RoleName == "terminal" && n.HasState(AtspiNames.Focused))
                    .ToList();
                if (terminals.Count == 0) continue;
                if (terminals.Count == 1) output = (terminals[0].Text ?? "").Replace("\uFFFC", "").Replace("\uFFFD", "").TrimEnd();
                break;
            }
        }
        catch (SandboxException e) when (e.Kind == ErrorKind.Unavailable)
        {
            // No accessibility bus: no terminal to read, as OSWorld's server answers when none is active.
        }
        return Json(new TerminalAnswer(output, "success"), OsWorldJson.Default.TerminalAnswer);
    }

    /// <summary>POST /screen_size.</summary>
    public IResult ScreenSize()
    {
        var (w, h) = screenshots.Capture.ScreenSize();
        return Json(new SizeAnswer(w, h), OsWorldJson.Default.SizeAnswer);
    }

    /// <summary>GET /cursor_position: <c>[x, y]</c>.</summary>
    public IResult CursorPosition()
    {
        var (x, y) = screenshots.Capture.Pointer();
        return Json(new[] { x, y }, OsWorldJson.Default.Int32Array);
    }

    /// <summary>POST /start_recording: the recording area's screen video (one recording at a time, /record's too).</summary>
    public async Task<IResult> StartRecordingAsync()
    {
        var started = await Task.Run(() => recorder.Start(new RecordStart(options.RecordFps, null, Video: true)));
        if (started.ActionRecordingStatus == "already_recording")
            return Json(new StatusMessage("error", "Recording is already in progress."), OsWorldJson.Default.StatusMessage, 400);
        if (started.ScreenRecordingStatus != "screen_recording_started")
        {
            await Task.Run(() => recorder.Stop());
            return Json(new StatusMessage("error", $"Failed to start recording. {started.Message ?? started.ScreenRecordingStatus}"),
                OsWorldJson.Default.StatusMessage, 500);
        }
        return Json(new StatusMessage("success", "Started recording successfully."), OsWorldJson.Default.StatusMessage);
    }

    /// <summary>POST /end_recording: the MP4 as an attachment. Asked again after the recording ended (a retry),
    /// the last video is sent again, as OSWorld's server does.</summary>
    public async Task<IResult> EndRecordingAsync()
    {
        var stopped = await Task.Run(() => recorder.Stop());
        if (stopped.ActionRecordingStatus == "no_action_recording")
        {
            if (_lastVideo is { } last && File.Exists(last) && new FileInfo(last).Length > 0)
                return Results.File(last, "video/mp4", "recording.mp4");
            return Json(new StatusMessage("error", "No recording in progress to stop."), OsWorldJson.Default.StatusMessage, 400);
        }
        if (stopped.ScreenRecordingFile is not { } relative)
            return Json(new StatusMessage("error", $"Recording failed. The output file is missing or empty. {stopped.Message}"),
                OsWorldJson.Default.StatusMessage, 500);
        var path = Path.Combine(sharedDir, relative);
        _lastVideo = path;
        return Results.File(path, "video/mp4", "recording.mp4");
    }
}
