using System.Net;
using System.Net.Sockets;
using System.Text;
using Sandbox.Testing;

namespace Sandbox.E2E.OsWorld;

/// <summary>/file, /setup/upload, /setup/download_file, /list_directory, /desktop_path, /setup/open_file,
/// /wallpaper and /setup/change_wallpaper, checked on the bytes and files they move.</summary>
public sealed class OsWorldFileTests(OsWorldFixture f) : IClassFixture<OsWorldFixture>
{
    [Fact]
    public void Upload_lands_with_the_same_bytes_and_file_returns_them()
    {
        var data = new byte[3_000_000]; // above the 1 MiB body limit of JSON requests: uploads get the files area's limit
        new Random(17).NextBytes(data);
        // SetupController's MultipartEncoder: file_path first, then file_data with a file name.
        using var form = new MultipartFormDataContent
        {
            { new StringContent("~/uploads/deep/data.bin"), "file_path" },
            { new ByteArrayContent(data), "file_data", "data.bin" },
        };
        using var r = f.Http.PostAsync("/setup/upload", form).Result;
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal($"File Uploaded: {data.Length} bytes", OsWorldFixture.Body(r));
        var onDisk = Path.Combine(f.Home, "uploads", "deep", "data.bin");
        Assert.Equal(data, File.ReadAllBytes(onDisk));

        // The other order (file_data before file_path) lands as well.
        using var reversed = new MultipartFormDataContent
        {
            { new ByteArrayContent(data[..1000]), "file_data", "x.bin" },
            { new StringContent(Path.Combine(f.Home, "uploads", "first.bin")), "file_path" },
        };
        Assert.Equal(HttpStatusCode.OK, f.Http.PostAsync("/setup/upload", reversed).Result.StatusCode);
        Assert.Equal(data[..1000], File.ReadAllBytes(Path.Combine(f.Home, "uploads", "first.bin")));

        // PythonController.get_file: form data file_path → the bytes, as an attachment.
        using var got = f.PostForm("/file", new() { ["file_path"] = "~/uploads/deep/data.bin" });
        Assert.Equal(HttpStatusCode.OK, got.StatusCode);
        Assert.Equal(data, got.Content.ReadAsByteArrayAsync().Result);
        Assert.Equal("attachment", got.Content.Headers.ContentDisposition?.DispositionType);
        Assert.Equal("data.bin", got.Content.Headers.ContentDisposition?.FileName?.Trim('"'));

        using var missing = f.PostForm("/file", new() { ["file_path"] = "~/no-such-file" });
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("File not found", OsWorldFixture.Json(missing).GetProperty("error").GetString());
        using var noField = f.PostForm("/file", new() { ["path"] = "x" });
        Assert.Equal(HttpStatusCode.BadRequest, noField.StatusCode);
        Assert.Equal("file_path is required", OsWorldFixture.Json(noField).GetProperty("error").GetString());
        using var noData = new MultipartFormDataContent { { new StringContent("~/x.bin"), "file_path" } };
        using var bad = f.Http.PostAsync("/setup/upload", noData).Result;
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal("file_path and file_data are required", OsWorldFixture.Json(bad).GetProperty("error").GetString());
    }

    [Fact]
    public void Download_file_retries_a_failing_server_and_writes_the_bytes()
    {
        var payload = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("osworld download ", 5000)));
        using var server = new FlakyServer(payload, failures: 2);
        using var r = f.PostJson("/setup/download_file", new { url = server.Url + "file.txt", path = "~/downloads/got.txt" });
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal($"File downloaded successfully: {payload.Length} bytes", OsWorldFixture.Body(r));
        Assert.Equal(payload, File.ReadAllBytes(Path.Combine(f.Home, "downloads", "got.txt")));
        Assert.Equal(3, server.Requests);

        using var never = new FlakyServer(payload, failures: 100);
        using var failed = f.PostJson("/setup/download_file", new { url = never.Url + "x", path = "~/downloads/never.txt" });
        Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode);
        Assert.StartsWith($"Failed to download {never.Url}x. No retries left.", OsWorldFixture.Body(failed));
        Assert.Equal(3, never.Requests);
        Assert.False(File.Exists(Path.Combine(f.Home, "downloads", "never.txt")));

        using var none = f.PostJson("/setup/download_file", new { url = "", path = "~/x" });
        Assert.Equal(HttpStatusCode.BadRequest, none.StatusCode);
        Assert.Equal("Path or URL not supplied!", OsWorldFixture.Body(none));
    }

    [Fact]
    public void List_directory_answers_the_tree_and_desktop_path_the_desktop()
    {
        var root = Path.Combine(f.Home, "tree");
        Directory.CreateDirectory(Path.Combine(root, "a", "b"));
        File.WriteAllText(Path.Combine(root, "a", "b", "leaf.txt"), "x");
        File.WriteAllText(Path.Combine(root, "top.txt"), "x");
        var j = OsWorldFixture.Json(f.PostJson("/list_directory", new { path = root })).GetProperty("directory_tree");
        Assert.Equal(("directory", "tree"), (j.GetProperty("type").GetString(), j.GetProperty("name").GetString()));
        var children = j.GetProperty("children").EnumerateArray().ToDictionary(c => c.GetProperty("name").GetString()!);
        Assert.Equal("file", children["top.txt"].GetProperty("type").GetString());
        Assert.False(children["top.txt"].TryGetProperty("children", out _));
        var b = children["a"].GetProperty("children")[0];
        Assert.Equal(("b", "leaf.txt", "file"), (b.GetProperty("name").GetString(), b.GetProperty("children")[0].GetProperty("name").GetString(),
            b.GetProperty("children")[0].GetProperty("type").GetString()));
        using var notDir = f.PostJson("/list_directory", new { path = Path.Combine(root, "top.txt") });
        Assert.Equal(HttpStatusCode.BadRequest, notDir.StatusCode);
        Assert.Equal("The provided path is not a directory", OsWorldFixture.Json(notDir).GetProperty("error").GetString());

        Directory.CreateDirectory(Path.Combine(f.Home, "Desktop"));
        Assert.Equal(Path.Combine(f.Home, "Desktop"), OsWorldFixture.Json(f.Post("/desktop_path")).GetProperty("desktop_path").GetString());
    }

    [Fact]
    public void Open_file_opens_with_the_desktop_handler_and_activates_its_window()
    {
        var dir = Directory.CreateDirectory(Path.Combine(f.Home, "docs")).FullName;
        File.WriteAllText(Path.Combine(dir, "quarterly-report.txt"), "numbers\n");
        using var r = f.PostJson("/setup/open_file", new { path = "~/docs/quarterly-report.txt" });
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal("File opened and window activated successfully", OsWorldFixture.Body(r));
        OsWorldFixture.WaitFor(() => f.Xdotool("getactivewindow", "getwindowname").Contains("quarterly-report"), "the opened file's window to be active");

        using var missing = f.PostJson("/setup/open_file", new { path = "~/docs/none.txt" });
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("Application/file not found: ~/docs/none.txt", OsWorldFixture.Body(missing));
        using var none = f.PostJson("/setup/open_file", new { });
        Assert.Equal(HttpStatusCode.BadRequest, none.StatusCode);
        Assert.Equal("Path not supplied!", OsWorldFixture.Body(none));
    }

    [Fact]
    public void Change_wallpaper_sets_gnomes_setting_and_wallpaper_returns_that_file()
    {
        var png = Path.Combine(f.Home, "wall.png");
        File.WriteAllBytes(png, File.ReadAllBytes(Repo.Scene("office.png")));
        using var r = f.PostJson("/setup/change_wallpaper", new { path = "~/wall.png" });
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal("Wallpaper changed successfully", OsWorldFixture.Body(r));
        Assert.Contains($"file://{png}", Processes.Check("gsettings", ["get", "org.gnome.desktop.background", "picture-uri"], f.Env));
        using var got = f.Post("/wallpaper");
        Assert.Equal(HttpStatusCode.OK, got.StatusCode);
        Assert.Equal("image/png", got.Content.Headers.ContentType?.MediaType);
        Assert.Equal(File.ReadAllBytes(png), got.Content.ReadAsByteArrayAsync().Result);
        using var missing = f.PostJson("/setup/change_wallpaper", new { path = "~/nope.png" });
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    /// <summary>A local HTTP server that answers 500 to its first <c>failures</c> requests, then the payload.</summary>
    private sealed class FlakyServer : IDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _stop = new();
        private int _requests;

        public FlakyServer(byte[] payload, int failures)
        {
            _listener.Start();
            Url = $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/";
            _ = Task.Run(async () =>
            {
                while (!_stop.IsCancellationRequested)
                {
                    using var client = await _listener.AcceptTcpClientAsync(_stop.Token);
                    var stream = client.GetStream();
                    var reader = new StreamReader(stream, Encoding.ASCII);
                    while (!string.IsNullOrEmpty(await reader.ReadLineAsync(_stop.Token))) { }
                    var n = Interlocked.Increment(ref _requests);
                    var (status, body) = n <= failures ? ("500 Internal Server Error", "busy"u8.ToArray()) : ("200 OK", payload);
                    var head = Encoding.ASCII.GetBytes($"HTTP/1.1 {status}\r\nContent-Length: {body.Length}\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n");
                    await stream.WriteAsync(head, _stop.Token);
                    await stream.WriteAsync(body, _stop.Token);
                }
            });
        }

        public string Url { get; }
        public int Requests => Volatile.Read(ref _requests);

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Stop();
        }
    }
}
