using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;
using Sandbox.Common;
using Sandbox.Desktop;
using Sandbox.Files;

namespace Sandbox.OsWorld;

/// <summary>The file, window and <c>/setup/*</c> routes.</summary>
internal sealed partial class OsWorldAdapter
{
    private static readonly FileExtensionContentTypeProvider ContentTypes = new();

    /// <summary>POST /file (form <c>file_path</c>): the file as an attachment.</summary>
    public async Task<IResult> FileAsync(HttpContext http)
    {
        var form = await http.Request.ReadFormAsync(http.RequestAborted);
        if (form["file_path"] is not { Count: > 0 } given || string.IsNullOrEmpty(given[0]))
            return Json(new ErrorAnswer("file_path is required"), OsWorldJson.Default.ErrorAnswer, 400);
        var path = FileService.Resolve(ShellWords.ExpandPath(given[0]!), "file_path");
        if (!File.Exists(path) && !Directory.Exists(path))
            return Json(new ErrorAnswer("File not found"), OsWorldJson.Default.ErrorAnswer, 404);
        var file = files.ReadableFile(path);
        if (!ContentTypes.TryGetContentType(file.Name, out var type)) type = "application/octet-stream";
        return Results.File(file.FullName, type, Path.GetFileName(path));
    }

    /// <summary>POST /setup/upload (multipart <c>file_path</c> + <c>file_data</c>): streamed to disk (parent
    /// directories made), answered <c>File Uploaded: N bytes</c>.</summary>
    public async Task<IResult> UploadAsync(HttpContext http)
    {
        var ct = http.RequestAborted;
        var limit = files.Options.MaxUploadBytes > long.MaxValue - (1 << 20) ? long.MaxValue : files.Options.MaxUploadBytes + (1 << 20);
        if (http.Request.ContentLength is { } length && length > limit)
            throw SandboxException.TooLarge($"the upload is {length} bytes, more than {limit} (SANDBOX_FILES_MAX_UPLOAD_BYTES)");
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } max) max.MaxRequestBodySize = limit;
        var missing = Json(new ErrorAnswer("file_path and file_data are required"), OsWorldJson.Default.ErrorAnswer, 400);
        if (!MediaTypeHeaderValue.TryParse(http.Request.ContentType, out var mediaType)
            || !mediaType.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase)
            || HeaderUtilities.RemoveQuotes(mediaType.Boundary).Value is not { Length: > 0 } boundary)
            return missing;

        var reader = new MultipartReader(boundary, http.Request.Body) { BodyLengthLimit = null };
        string? target = null;
        string? parked = null;   // file_data that came before file_path, kept in SHARED_DIR until the path is known
        long size = -1;
        try
        {
            while (await reader.ReadNextSectionAsync(ct) is { } section)
            {
                if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var d)) continue;
                var name = HeaderUtilities.RemoveQuotes(d.Name).Value;
                if (name == "file_path" && !d.IsFileDisposition() && target is null)
                {
                    using var text = new StreamReader(section.Body);
                    var value = await text.ReadToEndAsync(ct);
                    if (value.Length == 0) return missing;
                    target = FileService.Resolve(ShellWords.ExpandPath(value), "file_path");
                }
                else if (name == "file_data" && d.IsFileDisposition() && size < 0 && parked is null)
                {
                    if (target is not null)
                        size = (await files.WriteAsync(target, section.Body, mkdirs: true, mode: null, ct)).Size;
                    else
                    {
                        parked = Path.Combine(sharedDir, $".osworld-upload-{Guid.NewGuid():N}");
                        await files.WriteAsync(parked, section.Body, mkdirs: true, mode: null, ct);
                    }
                }
                else
                {
                    await section.Body.CopyToAsync(Stream.Null, ct);
                }
            }
            if (target is null || (size < 0 && parked is null)) return missing;
            if (parked is not null)
            {
                var entry = files.Move(parked, target, overwrite: true, mkdirs: true);
                parked = null;
                size = entry.Size;
            }
            return Text($"File Uploaded: {size} bytes");
        }
        finally
        {
            if (parked is not null) TryDelete(parked);
        }
    }

    /// <summary>POST /list_directory (<c>{"path"}</c>): the tree under it, directories with their children.</summary>
    public async Task<IResult> ListDirectoryAsync(HttpContext http)
    {
        var request = await ReadAsync(http, OsWorldJson.Default.PathRequest);
        if (request.Path is null) return Json(new ErrorAnswer("Missing 'path' parameter"), OsWorldJson.Default.ErrorAnswer, 400);
        var root = request.Path.Length == 0 ? "" : FileService.Resolve(ShellWords.ExpandPath(request.Path));
        if (root.Length == 0 || !Directory.Exists(root))
            return Json(new ErrorAnswer("The provided path is not a directory"), OsWorldJson.Default.ErrorAnswer, 400);
        var list = files.List(root, files.Options.MaxListDepth);
        var top = new DirectoryNode { Type = "directory", Name = Path.GetFileName(root), Children = [] };
        var dirs = new Dictionary<string, DirectoryNode>(StringComparer.Ordinal) { [root] = top };
        foreach (var e in list.Entries)
        {
            var parent = dirs.GetValueOrDefault(Path.GetDirectoryName(e.Path) ?? "");
            if (parent is null) continue;
            var node = e.Type == "directory"
                ? new DirectoryNode { Type = "directory", Name = e.Name, Children = [] }
                : new DirectoryNode { Type = "file", Name = e.Name };
            if (e.Type == "directory") dirs[e.Path] = node;
            parent.Children!.Add(node);
        }
        return Json(new DirectoryTreeAnswer(top), OsWorldJson.Default.DirectoryTreeAnswer);
    }

    /// <summary>POST /desktop_path.</summary>
    public IResult DesktopPath()
    {
        var path = Path.Combine(HomePath.Home, "Desktop");
        return Directory.Exists(path)
            ? Json(new DesktopPathAnswer(path), OsWorldJson.Default.DesktopPathAnswer)
            : Json(new ErrorAnswer("Unsupported operating system or desktop path not found"), OsWorldJson.Default.ErrorAnswer, 404);
    }

    /// <summary>POST /window_size (form <c>app_class_name</c>): the client size of the first window of that WM_CLASS.</summary>
    public async Task<IResult> WindowSizeAsync(HttpContext http)
    {
        var form = http.Request.HasFormContentType ? await http.Request.ReadFormAsync(http.RequestAborted) : null;
        if (form?["app_class_name"] is not { Count: > 0 } given)
            return Json(new ErrorAnswer("app_class_name is required"), OsWorldJson.Default.ErrorAnswer, 400);
        var name = given[0] ?? "";
        var window = desktop.List().Windows.FirstOrDefault(w =>
            string.Equals(w.WmClass, name, StringComparison.OrdinalIgnoreCase) || string.Equals(w.WmInstance, name, StringComparison.OrdinalIgnoreCase));
        // OSWorld's server fails (500) here; its controller needs only a non-200.
        if (window is null) return Json(new ErrorAnswer($"no window of class {name}"), OsWorldJson.Default.ErrorAnswer, 404);
        return Json(new SizeAnswer(window.Geometry.Width, window.Geometry.Height), OsWorldJson.Default.SizeAnswer);
    }

    /// <summary>POST /wallpaper: the file GNOME's <c>picture-uri</c> setting names, as image/png.</summary>
    public async Task<IResult> WallpaperAsync(HttpContext http)
    {
        var (r, _) = await RunAsync(["gsettings", "get", "org.gnome.desktop.background", "picture-uri"], options.ExecuteTimeoutS, null, http.RequestAborted);
        var path = r is { TimedOut: false, ExitCode: 0 } ? Out(r).Trim().Replace("file://", "").Replace("'", "") : "";
        if (path.Length == 0) return Text("Wallpaper file not found", 404);
        if (!File.Exists(path)) return Text("Unable to serve the wallpaper file", 500);
        return Results.File(path, "image/png");
    }

    /// <summary>POST /setup/change_wallpaper (<c>{"path"}</c>): sets GNOME's <c>picture-uri</c>.</summary>
    public async Task<IResult> ChangeWallpaperAsync(HttpContext http)
    {
        var request = await ReadAsync(http, OsWorldJson.Default.PathRequest);
        if (string.IsNullOrEmpty(request.Path)) return Text("Path not supplied!", 400);
        var path = FileService.Resolve(ShellWords.ExpandPath(request.Path));
        if (!File.Exists(path) && !Directory.Exists(path)) return Text($"File not found: {path}", 404);
        var (r, failure) = await RunAsync(["gsettings", "set", "org.gnome.desktop.background", "picture-uri", $"file://{path}"],
            options.ExecuteTimeoutS, null, http.RequestAborted);
        if (r is null) return Text($"Failed to change wallpaper. Error: {failure}", 500);
        return Text("Wallpaper changed successfully");
    }

    /// <summary>POST /setup/download_file (<c>{"url", "path"}</c>): fetched over HTTP(S), up to three attempts,
    /// the size checked against Content-Length, written atomically (parent directories made).</summary>
    public async Task<IResult> DownloadAsync(HttpContext http)
    {
        var request = await ReadAsync(http, OsWorldJson.Default.DownloadRequest);
        if (string.IsNullOrEmpty(request.Url) || string.IsNullOrEmpty(request.Path)) return Text("Path or URL not supplied!", 400);
        if (!Uri.TryCreate(request.Url, UriKind.Absolute, out var url) || (url.Scheme != "http" && url.Scheme != "https"))
            throw SandboxException.BadField("url", $"{request.Url}: expected an http or https URL");
        var path = FileService.Resolve(ShellWords.ExpandPath(request.Path));
        string? error = null;
        for (var attempt = 1; attempt <= options.DownloadAttempts; attempt++)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted);
            timeout.CancelAfter(TimeSpan.FromSeconds(options.DownloadTimeoutS));
            try
            {
                using var response = await _http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
                if (!response.IsSuccessStatusCode)
                    throw new HttpRequestException($"{(int)response.StatusCode} {response.ReasonPhrase} for url: {url}");
                var expected = response.Content.Headers.ContentLength ?? 0;
                await using var body = await response.Content.ReadAsStreamAsync(timeout.Token);
                var written = await files.WriteAsync(path, body, mkdirs: true, mode: null, timeout.Token);
                if (expected > 0 && written.Size != expected)
                {
                    TryDelete(path);
                    throw new IOException($"Download incomplete. Expected {expected} bytes, got {written.Size} bytes");
                }
                return Text($"File downloaded successfully: {written.Size} bytes");
            }
            catch (Exception e) when (!http.RequestAborted.IsCancellationRequested
                                      && e is HttpRequestException or IOException or OperationCanceledException
                                          || e is SandboxException { Kind: not ErrorKind.BadRequest })
            {
                error = e is OperationCanceledException ? $"no answer within {options.DownloadTimeoutS} s" : e.Message;
                log.LogWarningAttempt(url, attempt, options.DownloadAttempts, error);
            }
        }
        return Text($"Failed to download {url}. No retries left. Error: {error}", 500);
    }

    /// <summary>POST /setup/open_file (<c>{"path"}</c>): a file opened with the desktop's handler (xdg-open), or
    /// a program on PATH started; then waits for a window whose title names it and activates that window.</summary>
    public async Task<IResult> OpenFileAsync(HttpContext http)
    {
        const string route = "/setup/open_file";
        var request = await ReadAsync(http, OsWorldJson.Default.PathRequest);
        if (string.IsNullOrEmpty(request.Path)) return Text("Path not supplied!", 400);
        var expanded = ShellWords.ExpandPath(request.Path);
        var full = FileService.Resolve(expanded);
        var isFile = File.Exists(full) || Directory.Exists(full);
        string[] argv;
        string name, stem;
        if (isFile)
        {
            argv = ["xdg-open", full];
            name = Path.GetFileName(full);
            stem = Path.GetFileNameWithoutExtension(full);
        }
        else
        {
            if (!OnPath(expanded)) return Text($"Application/file not found: {request.Path}", 404);
            argv = [expanded];
            name = stem = expanded;
        }
        string text;
        var status = 200;
        try
        {
            await apps.LaunchAsync(new LaunchRequest(null, argv, null, null, null), http.RequestAborted);
            var window = await WaitForTitleAsync(stem, options.OpenFileTimeoutS, http.RequestAborted);
            if (window is null)
                (text, status) = ($"Failed to find window for {name} within {Seconds(options.OpenFileTimeoutS)} seconds.", 500);
            else
            {
                desktop.Act(window.Id, WindowAction.Activate, null);
                text = "File opened and window activated successfully";
            }
        }
        catch (SandboxException e) when (e.Kind is ErrorKind.NotFound or ErrorKind.BadRequest)
        {
            (text, status) = ($"Failed to open {request.Path}. Error: {e.Message}", 500);
        }
        await JournalAsync(route, request, OsWorldJson.Default.PathRequest, text, OsWorldJson.Default.String, http.RequestAborted);
        return Text(text, status);
    }

    /// <summary>The desktop's wait for a window whose title contains <paramref name="title"/>, in slices the wait accepts.</summary>
    private async Task<WindowInfo?> WaitForTitleAsync(string title, double seconds, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var left = (int)Math.Max(0, seconds * 1000 - clock.ElapsedMilliseconds);
            var slice = Math.Min(left, desktop.Options.MaxWaitTimeoutMs);
            try
            {
                var found = await waits.WaitAsync(new WaitRequest("window_exists", null, slice, new WindowMatch(null, null, null, title), null, null), ct);
                if (found.Met) return found.Window;
            }
            catch (SandboxException e) when (e.Kind == ErrorKind.Timeout) { }
            if (left <= slice) return null;
        }
    }

    private static bool OnPath(string program)
    {
        if (program.Contains('/')) return File.Exists(program);
        return (Environment.GetEnvironmentVariable("PATH") ?? "/usr/local/bin:/usr/bin:/bin").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Any(d => File.Exists(Path.Combine(d, program)));
    }

    /// <summary>POST /setup/activate_window and /setup/close_window (<c>{"window_name", "strict", "by_class"}</c>):
    /// the first window matched as <c>wmctrl -a/-c</c> matches (title substring ignoring case; <c>strict</c>: the
    /// whole title, case-sensitive; <c>by_class</c>: <c>instance.Class</c> instead of the title).</summary>
    public async Task<IResult> WindowActionAsync(HttpContext http, WindowAction action)
    {
        var route = action == WindowAction.Close ? "/setup/close_window" : "/setup/activate_window";
        var request = await ReadAsync(http, OsWorldJson.Default.WindowRequest);
        var name = request.WindowName;
        if (string.IsNullOrEmpty(name)) return Text("window_name required", 400);
        var strict = request.Strict ?? false;
        var byClass = request.ByClass ?? false;
        var window = desktop.List().Windows.FirstOrDefault(w =>
        {
            var subject = byClass ? $"{w.WmInstance}.{w.WmClass}" : w.Title ?? "";
            return strict ? subject == name : subject.Contains(name, StringComparison.OrdinalIgnoreCase);
        });
        string text;
        int status;
        if (window is null)
            (text, status) = ($"Window {name} not found (empty results)", 404);
        else
        {
            desktop.Act(window.Id, action, null);
            (text, status) = (action == WindowAction.Close ? "Window closed successfully." : "Window activated successfully", 200);
        }
        await JournalAsync(route, request, OsWorldJson.Default.WindowRequest, text, OsWorldJson.Default.String, http.RequestAborted);
        return Text(text, status);
    }
}

internal static partial class OsWorldLog
{
    [Microsoft.Extensions.Logging.LoggerMessage(Level = Microsoft.Extensions.Logging.LogLevel.Warning,
        Message = "osworld: download of {Url} failed (attempt {Attempt} of {Attempts}): {Error}")]
    public static partial void LogWarningAttempt(this Microsoft.Extensions.Logging.ILogger log, Uri url, int attempt, int attempts, string error);
}
