using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;
using Sandbox.Common;
using Sandbox.Web;

namespace Sandbox.Files;

/// <summary>The /files routes (docs/files.md).</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
internal static partial class FilesApi
{
    private static readonly FileExtensionContentTypeProvider ContentTypes = new();

    // PUT cannot be sent cross-origin without a preflight (which is never answered), so any body type is
    // accepted, none included ("" is curl -T's); a multipart POST is refused from foreign origins by the guard.
    private static readonly BodyTypes PutTypes = new("", "application/*", "text/*", "image/*", "audio/*", "video/*", "font/*", "model/*", "multipart/*");

    public static IEndpointRouteBuilder MapFilesApi(this IEndpointRouteBuilder app, FileService files)
    {
        app.MapMethods("/files", ["GET", "HEAD"], (HttpContext http) =>
        {
            var path = FileService.Resolve(http.Request.Query["path"]);
            var file = files.ReadableFile(path);
            var modified = new DateTimeOffset(file.LastWriteTimeUtc);
            var etag = new EntityTagHeaderValue($"\"{file.Length:x}-{file.LastWriteTimeUtc.Ticks:x}\"");
            if (!ContentTypes.TryGetContentType(file.Name, out var type)) type = "application/octet-stream";
            // Range, If-Range, If-None-Match and If-Modified-Since are handled by the framework; the bytes are
            // read straight into the connection's output pipe (FileBody) instead of Kestrel's double copy.
            if (http.Features.Get<IHttpResponseBodyFeature>() is { } body)
                http.Features.Set<IHttpResponseBodyFeature>(new FileBody(body, files.Options.DownloadChunkBytes));
            return Results.File(file.FullName, type, lastModified: modified, entityTag: etag, enableRangeProcessing: true);
        });

        app.MapPut("/files", async Task<IResult> (HttpContext http) =>
        {
            var q = http.Request.Query;
            var path = FileService.Resolve(q["path"]);
            var mkdirs = Flag(q, "mkdirs");
            var mode = q["mode"].Count > 0 ? FileService.ParseMode(q["mode"], "mode") : (UnixFileMode?)null;
            AllowLargeBody(http, files.Options.MaxUploadBytes);
            var entry = await files.WriteAsync(path, http.Request.BodyReader, mkdirs, mode, http.RequestAborted);
            return Results.Json(entry, FilesJson.Default.FileEntry, statusCode: 201);
        }).WithMetadata(PutTypes);

        app.MapPost("/files", async Task<IResult> (HttpContext http) =>
        {
            var q = http.Request.Query;
            var path = FileService.Resolve(q["path"]);
            var mkdirs = Flag(q, "mkdirs");
            var mode = q["mode"].Count > 0 ? FileService.ParseMode(q["mode"], "mode") : (UnixFileMode?)null;
            // Multipart framing on top of the files: a little more than one file's limit.
            AllowLargeBody(http, files.Options.MaxUploadBytes > long.MaxValue - (1 << 20) ? long.MaxValue : files.Options.MaxUploadBytes + (1 << 20));
            var written = await UploadMultipartAsync(http, files, path, mkdirs, mode);
            return Results.Json(new UploadResult(written), FilesJson.Default.UploadResult, statusCode: 201);
        }).WithMetadata(new BodyTypes("multipart/form-data"));

        app.MapDelete("/files", (HttpContext http) =>
        {
            var path = FileService.Resolve(http.Request.Query["path"]);
            files.Delete(path, Flag(http.Request.Query, "recursive"));
            return Results.Json(new DeleteResult(path, true), FilesJson.Default.DeleteResult);
        });

        app.MapGet("/files/stat", (HttpContext http) =>
            Results.Json(files.Stat(FileService.Resolve(http.Request.Query["path"])), FilesJson.Default.FileEntry));

        app.MapGet("/files/list", (HttpContext http) =>
        {
            var q = http.Request.Query;
            var depth = 1;
            if (q["depth"].Count > 0 && !int.TryParse(q["depth"], NumberStyles.None, CultureInfo.InvariantCulture, out depth))
                throw SandboxException.BadField("depth", $"'{q["depth"]}': expected a whole number");
            return Results.Json(files.List(FileService.Resolve(q["path"]), depth), FilesJson.Default.FileList);
        });

        app.MapPost("/files/move", async Task<IResult> (HttpContext http) =>
        {
            var m = (await JsonBody.ReadAsync(http.Request, FilesJson.Default.MoveRequest, ct: http.RequestAborted))!;
            var entry = files.Move(FileService.Resolve(m.From, "from"), FileService.Resolve(m.To, "to"), m.Overwrite ?? false, m.Mkdirs ?? false);
            return Results.Json(entry, FilesJson.Default.FileEntry);
        });

        app.MapPost("/files/mkdir", async Task<IResult> (HttpContext http) =>
        {
            var m = (await JsonBody.ReadAsync(http.Request, FilesJson.Default.MkdirRequest, ct: http.RequestAborted))!;
            var mode = m.Mode is null ? (UnixFileMode?)null : FileService.ParseMode(m.Mode, "mode");
            var entry = files.Mkdir(FileService.Resolve(m.Path), m.Parents ?? false, mode);
            return Results.Json(entry, FilesJson.Default.FileEntry, statusCode: 201);
        });

        MapWatch(app, files);
        return app;
    }

    static partial void MapWatch(IEndpointRouteBuilder app, FileService files);

    private static bool Flag(IQueryCollection q, string name)
    {
        var s = ((string?)q[name])?.Trim().ToLowerInvariant();
        return s switch
        {
            null or "" or "0" or "false" or "no" => false,
            "1" or "true" or "yes" => true,
            _ => throw SandboxException.BadField(name, $"'{s}': expected true or false"),
        };
    }

    /// <summary>Kestrel's limit is SANDBOX_MAX_BODY_BYTES for every request; uploads get the Files limit.</summary>
    private static void AllowLargeBody(HttpContext http, long max)
    {
        if (http.Request.ContentLength is { } length && length > max)
            throw SandboxException.TooLarge($"the upload is {length} bytes, more than {max} (SANDBOX_FILES_MAX_UPLOAD_BYTES)");
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
            limit.MaxRequestBodySize = max;
    }

    /// <summary>
    /// Each file part is streamed to disk like a PUT. <c>path</c> is a directory (parts land there under their
    /// file names) or, for a single file part, the file itself.
    /// </summary>
    private static async Task<List<FileEntry>> UploadMultipartAsync(HttpContext http, FileService files, string path, bool mkdirs, UnixFileMode? mode)
    {
        if (!MediaTypeHeaderValue.TryParse(http.Request.ContentType, out var type)
            || HeaderUtilities.RemoveQuotes(type.Boundary).Value is not { Length: > 0 } boundary)
            throw SandboxException.BadField("body", "multipart/form-data needs a boundary");
        var intoDirectory = Directory.Exists(path);
        var reader = new MultipartReader(boundary, http.Request.Body) { BodyLengthLimit = null };
        var written = new List<FileEntry>();
        while (await reader.ReadNextSectionAsync(http.RequestAborted) is { } section)
        {
            if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition)
                || !disposition.IsFileDisposition())
                continue; // a plain form field
            var name = HeaderUtilities.RemoveQuotes(disposition.FileNameStar.HasValue ? disposition.FileNameStar : disposition.FileName).Value ?? "";
            string target;
            if (intoDirectory)
            {
                var safe = Path.GetFileName(name.Replace('\\', '/'));
                if (safe.Length == 0 || safe is "." or "..") throw SandboxException.BadField("filename", $"'{name}' is not a file name");
                target = Path.Combine(path, safe);
            }
            else
            {
                if (written.Count > 0) throw SandboxException.BadField("path", "several files need path to be an existing directory");
                target = path;
            }
            written.Add(await files.WriteAsync(target, section.Body, mkdirs, mode, http.RequestAborted));
        }
        if (written.Count == 0) throw SandboxException.BadField("body", "no file part in the multipart body");
        return written;
    }
}
