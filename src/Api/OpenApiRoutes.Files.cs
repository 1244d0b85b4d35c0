using System.Text.Json.Nodes;
using Sandbox.Files;
using Sandbox.Web;

namespace Sandbox.Api;

/// <summary>/files routes (docs/files.md).</summary>
internal static partial class OpenApiRoutes
{
    private static ApiRoute[] FileRoutes()
    {
        ApiParameter path = new("path", "string", "Absolute, ~ or relative to the service user's home.") { Required = true };
        ApiResponse entry = new(200, "The entry.") { Json = FilesJson.Default.FileEntry };
        ApiResponse notFound = new(404, "No such file or directory.") { Json = WebJson.Default.ApiError };
        ApiResponse conflict = new(409, "The target exists, or a directory is not empty.") { Json = WebJson.Default.ApiError };
        ApiResponse tooLarge = new(413, "Larger than SANDBOX_FILES_MAX_UPLOAD_BYTES; nothing was written.") { Json = WebJson.Default.ApiError };
        ApiResponse full = new(507, "The disk is full; the partial file was removed and the old one kept.") { Json = WebJson.Default.ApiError };
        ApiParameter mkdirs = new("mkdirs", "boolean", "Create missing parent directories (0700).") { Default = "false" };
        ApiParameter mode = new("mode", "string", "Octal permissions of the file, e.g. 0644 (new files default to 0600; a replaced file keeps its mode).");
        ApiResponse file = new(200, "The bytes (Range → 206 with Content-Range).") { ContentType = "application/octet-stream", Format = "binary" };
        return
        [
            new("GET", "/files", "files", "Download a file", "Streams the file with Content-Type, ETag, Last-Modified; Range, If-Range, If-None-Match honoured.")
            {
                Parameters = [path],
                Responses = [file, new(206, "The requested range.") { ContentType = "application/octet-stream", Format = "binary" }, BadRequest, notFound],
            },
            new("HEAD", "/files", "files", "A file's headers", "GET without the body.")
            {
                Parameters = [path], Responses = [new(200, "The headers."), BadRequest, notFound],
            },
            new("PUT", "/files", "files", "Upload a file", "The body becomes the file atomically (temp file in the same directory, fsync, rename), in constant memory.")
            {
                Parameters = [path, mkdirs, mode],
                Responses = [new(201, "The written file.") { Json = FilesJson.Default.FileEntry }, BadRequest, notFound, tooLarge, full],
            },
            new("POST", "/files", "files", "Upload files (multipart/form-data)", "Each file part is written like a PUT: into `path` when it is a directory (under the part's file name), else as `path`.")
            {
                Parameters = [path, mkdirs, mode],
                Responses = [new(201, "The written files.") { Json = FilesJson.Default.UploadResult }, BadRequest, notFound, tooLarge, full],
            },
            new("DELETE", "/files", "files", "Delete a file or directory", "A symlink is removed, not its target; a non-empty directory needs recursive=true.")
            {
                Parameters = [path, new("recursive", "boolean", "Delete a directory with its contents.") { Default = "false" }],
                Responses = [new(200, "Deleted.") { Json = FilesJson.Default.DeleteResult }, BadRequest, notFound, conflict],
            },
            new("GET", "/files/stat", "files", "Describe a path", "Type, size, mode, owner, mtime, symlink target (not followed).")
            {
                Parameters = [path], Responses = [entry, BadRequest, notFound],
            },
            new("GET", "/files/list", "files", "List a directory", "Entries sorted by name, directories entered up to `depth`.")
            {
                Parameters = [path, new("depth", "integer", "Levels to list.") { Minimum = 1, Default = "1" }],
                Responses = [new(200, "The entries.") { Json = FilesJson.Default.FileList }, BadRequest, notFound],
            },
            new("POST", "/files/move", "files", "Move or rename", "`{from, to, overwrite, mkdirs}`.")
            {
                Body = new ApiBody("From and to.", BodySchema(FilesJson.Default.MoveRequest), new JsonObject { ["from"] = "~/a.txt", ["to"] = "~/b.txt" }),
                Responses = [entry, BadRequest, notFound, conflict],
            },
            new("POST", "/files/mkdir", "files", "Create a directory", "`{path, parents, mode}`.")
            {
                Body = new ApiBody("The directory.", BodySchema(FilesJson.Default.MkdirRequest), new JsonObject { ["path"] = "~/work", ["parents"] = true }),
                Responses = [new(201, "The directory.") { Json = FilesJson.Default.FileEntry }, BadRequest, notFound, conflict],
            },
            new("GET", "/files/watch", "files", "Watch a directory or file",
                "inotify events (created, modified, deleted, moved_from, moved_to, overflow) as WebSocket JSON frames or Server-Sent Events; a `ready` event first.")
            {
                WebSocket = true,
                Parameters = [path, new("recursive", "boolean", "Watch subdirectories too (also ones created later).") { Default = "false" }],
                Responses =
                [
                    new(101, "Switching to the WebSocket protocol."),
                    new(200, "Server-Sent Events.") { ContentType = "text/event-stream" },
                    BadRequest, notFound,
                ],
            },
        ];
    }
}
