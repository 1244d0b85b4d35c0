using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Sandbox.E2E.Infrastructure;
using Sandbox.E2E.ProcessesApi;
using Xunit.Abstractions;

namespace Sandbox.E2E.Files;

/// <summary>/files against the published binary: reads with ranges, atomic writes, listing, moves, deletes, errors.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class FileApiTests(ApplianceFixture fixture, ITestOutputHelper output) : IClassFixture<ApplianceFixture>, IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("files-e2e-").FullName;
    private HttpClient Http => fixture.App.Http;

    public void Dispose() => Directory.Delete(_dir, true);

    private static string Q(string path) => Uri.EscapeDataString(path);

    private async Task<HttpResponseMessage> PutAsync(string path, byte[] bytes, string query = "")
    {
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        return await Http.PutAsync($"/files?path={Q(path)}{query}", content);
    }

    private async Task<JsonElement> JsonAsync(HttpResponseMessage r, int status)
    {
        var text = await r.Content.ReadAsStringAsync();
        Assert.True((int)r.StatusCode == status, $"{r.RequestMessage!.Method} {r.RequestMessage.RequestUri} → {(int)r.StatusCode} (wanted {status}): {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    [Fact]
    public async Task A_put_file_reads_back_with_type_etag_and_range_requests()
    {
        var path = Path.Combine(_dir, "notes.txt");
        var bytes = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Range(0, 1000).Select(i => $"line {i}\n")));
        var entry = await JsonAsync(await PutAsync(path, bytes), 201);
        Assert.Equal(bytes.Length, entry.GetProperty("size").GetInt64());
        Assert.Equal("0600", entry.GetProperty("mode").GetString());
        Assert.Equal(bytes, await File.ReadAllBytesAsync(path));

        using var full = await Http.GetAsync($"/files?path={Q(path)}");
        Assert.Equal(HttpStatusCode.OK, full.StatusCode);
        Assert.Equal("text/plain", full.Content.Headers.ContentType!.MediaType);
        Assert.NotNull(full.Headers.ETag);
        Assert.NotNull(full.Content.Headers.LastModified);
        Assert.Equal(bytes, await full.Content.ReadAsByteArrayAsync());

        var range = new HttpRequestMessage(HttpMethod.Get, $"/files?path={Q(path)}");
        range.Headers.Range = new RangeHeaderValue(100, 199);
        using var part = await Http.SendAsync(range);
        Assert.Equal(HttpStatusCode.PartialContent, part.StatusCode);
        Assert.Equal($"bytes 100-199/{bytes.Length}", part.Content.Headers.ContentRange!.ToString());
        Assert.Equal(bytes[100..200], await part.Content.ReadAsByteArrayAsync());

        var suffix = new HttpRequestMessage(HttpMethod.Get, $"/files?path={Q(path)}");
        suffix.Headers.Range = new RangeHeaderValue(null, 7);
        using var tail = await Http.SendAsync(suffix);
        Assert.Equal(HttpStatusCode.PartialContent, tail.StatusCode);
        Assert.Equal(bytes[^7..], await tail.Content.ReadAsByteArrayAsync());

        var beyond = new HttpRequestMessage(HttpMethod.Get, $"/files?path={Q(path)}");
        beyond.Headers.Range = new RangeHeaderValue(bytes.Length + 10, bytes.Length + 20);
        using var unsatisfiable = await Http.SendAsync(beyond);
        Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, unsatisfiable.StatusCode);

        var again = new HttpRequestMessage(HttpMethod.Get, $"/files?path={Q(path)}");
        again.Headers.IfNoneMatch.Add(full.Headers.ETag!);
        using var same = await Http.SendAsync(again);
        Assert.Equal(HttpStatusCode.NotModified, same.StatusCode);

        using var head = await Http.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"/files?path={Q(path)}"));
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(bytes.Length, head.Content.Headers.ContentLength);
        Assert.Empty(await head.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Put_creates_directories_on_request_sets_the_mode_and_replaces_atomically()
    {
        var path = Path.Combine(_dir, "a", "b", "c.bin");
        await JsonAsync(await PutAsync(path, [1, 2, 3]), 404);
        var e = await JsonAsync(await PutAsync(path, [1, 2, 3], "&mkdirs=true&mode=0640"), 201);
        Assert.Equal("0640", e.GetProperty("mode").GetString());
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead, File.GetUnixFileMode(path));
        await JsonAsync(await PutAsync(path, [9]), 201);
        Assert.Equal(new byte[] { 9 }, await File.ReadAllBytesAsync(path));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead, File.GetUnixFileMode(path)); // kept
        Assert.Equal(["c.bin"], Directory.GetFiles(Path.GetDirectoryName(path)!).Select(Path.GetFileName));
        await JsonAsync(await PutAsync(_dir, [1]), 400); // a directory where a file is expected
        await JsonAsync(await PutAsync(path, [1], "&mode=999"), 400);
    }

    [Fact]
    public async Task Reading_missing_paths_and_directories_gives_404_and_400()
    {
        await JsonAsync(await Http.GetAsync($"/files?path={Q(_dir + "/nope")}"), 404);
        await JsonAsync(await Http.GetAsync($"/files?path={Q(_dir)}"), 400);
        await JsonAsync(await Http.GetAsync("/files"), 400);
        await JsonAsync(await Http.GetAsync($"/files/stat?path={Q(_dir + "/nope")}"), 404);
        await JsonAsync(await Http.GetAsync($"/files/list?path={Q(_dir + "/nope")}"), 404);
    }

    [Fact]
    public async Task List_stat_mkdir_move_and_delete_behave_like_the_file_system()
    {
        await JsonAsync(await Http.PostAsync("/files/mkdir", Json(new { path = _dir + "/d/e", parents = true })), 201);
        await JsonAsync(await Http.PostAsync("/files/mkdir", Json(new { path = _dir + "/d" })), 409);
        await JsonAsync(await Http.PostAsync("/files/mkdir", Json(new { path = _dir + "/x/y" })), 404);
        await File.WriteAllTextAsync(_dir + "/d/e/f.txt", "hello");
        File.CreateSymbolicLink(_dir + "/d/link", "e/f.txt");

        var list = await JsonAsync(await Http.GetAsync($"/files/list?path={Q(_dir + "/d")}&depth=2"), 200);
        var entries = list.GetProperty("entries").EnumerateArray().ToDictionary(x => x.GetProperty("path").GetString()!, x => x);
        Assert.Equal(["e", "f.txt", "link"], entries.Values.Select(x => x.GetProperty("name").GetString()!).Order());
        Assert.Equal("directory", entries[_dir + "/d/e"].GetProperty("type").GetString());
        Assert.Equal(5, entries[_dir + "/d/e/f.txt"].GetProperty("size").GetInt64());
        Assert.Equal("symlink", entries[_dir + "/d/link"].GetProperty("type").GetString());
        Assert.Equal("e/f.txt", entries[_dir + "/d/link"].GetProperty("symlink_target").GetString());
        Assert.Equal(Environment.UserName, entries[_dir + "/d/e/f.txt"].GetProperty("owner").GetString());
        var shallow = await JsonAsync(await Http.GetAsync($"/files/list?path={Q(_dir + "/d")}"), 200);
        Assert.Equal(2, shallow.GetProperty("entries").GetArrayLength());
        await JsonAsync(await Http.GetAsync($"/files/list?path={Q(_dir + "/d/e/f.txt")}"), 400);

        var stat = await JsonAsync(await Http.GetAsync($"/files/stat?path={Q(_dir + "/d/e/f.txt")}"), 200);
        Assert.Equal("file", stat.GetProperty("type").GetString());

        await File.WriteAllTextAsync(_dir + "/other.txt", "other");
        await JsonAsync(await Http.PostAsync("/files/move", Json(new { from = _dir + "/other.txt", to = _dir + "/d/e/f.txt" })), 409);
        await JsonAsync(await Http.PostAsync("/files/move", Json(new { from = _dir + "/other.txt", to = _dir + "/d/e/f.txt", overwrite = true })), 200);
        Assert.Equal("other", await File.ReadAllTextAsync(_dir + "/d/e/f.txt"));
        Assert.False(File.Exists(_dir + "/other.txt"));
        await JsonAsync(await Http.PostAsync("/files/move", Json(new { from = _dir + "/nope", to = _dir + "/x" })), 404);
        await JsonAsync(await Http.PostAsync("/files/move", Json(new { from = _dir + "/d", to = _dir + "/moved/d2", mkdirs = true })), 200);
        Assert.True(File.Exists(_dir + "/moved/d2/e/f.txt"));

        await JsonAsync(await Http.DeleteAsync($"/files?path={Q(_dir + "/moved/d2")}"), 409);
        await JsonAsync(await Http.DeleteAsync($"/files?path={Q(_dir + "/moved/d2/link")}"), 200);
        Assert.True(File.Exists(_dir + "/moved/d2/e/f.txt")); // the link went, not its target
        await JsonAsync(await Http.DeleteAsync($"/files?path={Q(_dir + "/moved/d2")}&recursive=true"), 200);
        Assert.False(Directory.Exists(_dir + "/moved/d2"));
        await JsonAsync(await Http.DeleteAsync($"/files?path={Q(_dir + "/moved/d2")}"), 404);
    }

    [Fact]
    public async Task A_multipart_upload_lands_files_by_name_in_a_directory_or_as_the_named_file()
    {
        using var form = new MultipartFormDataContent
        {
            { new StringContent("field value"), "comment" },
            { new ByteArrayContent([1, 2, 3]), "file", "one.bin" },
            { new ByteArrayContent("two"u8.ToArray()), "file", "../two.txt" },
        };
        var r = await JsonAsync(await Http.PostAsync($"/files?path={Q(_dir)}", form), 201);
        Assert.Equal(2, r.GetProperty("files").GetArrayLength());
        Assert.Equal(new byte[] { 1, 2, 3 }, await File.ReadAllBytesAsync(_dir + "/one.bin"));
        Assert.Equal("two", await File.ReadAllTextAsync(_dir + "/two.txt"));

        using var single = new MultipartFormDataContent { { new ByteArrayContent([7]), "file_data", "whatever" } };
        await JsonAsync(await Http.PostAsync($"/files?path={Q(_dir + "/named.bin")}", single), 201);
        Assert.Equal(new byte[] { 7 }, await File.ReadAllBytesAsync(_dir + "/named.bin"));
    }

    [Fact]
    public async Task Concurrent_writers_to_one_path_leave_exactly_one_whole_file()
    {
        var path = Path.Combine(_dir, "contended.bin");
        const int size = 4 << 20;
        var writers = Enumerable.Range(1, 6).Select(i => PutAsync(path, Enumerable.Repeat((byte)i, size).ToArray())).ToArray();
        foreach (var w in await Task.WhenAll(writers)) Assert.Equal(HttpStatusCode.Created, w.StatusCode);
        var bytes = await File.ReadAllBytesAsync(path);
        Assert.Equal(size, bytes.Length);
        Assert.True(bytes.All(b => b == bytes[0]), "the file mixes two writers' bytes");
        Assert.Equal(["contended.bin"], Directory.GetFiles(_dir).Select(Path.GetFileName));
    }

    [Fact]
    public async Task An_upload_above_the_configured_limit_is_413_and_leaves_nothing()
    {
        using var small = ApplianceProcess.Start(null, new Dictionary<string, string?> { ["SANDBOX_FILES_MAX_UPLOAD_BYTES"] = "1000" });
        var path = Path.Combine(_dir, "big.bin");
        var content = new ByteArrayContent(new byte[5000]);
        using var declared = await small.Http.PutAsync($"/files?path={Q(path)}", content);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, declared.StatusCode);
        // Chunked (no Content-Length): refused while streaming.
        var chunked = new StreamContent(new MemoryStream(new byte[5000]));
        var request = new HttpRequestMessage(HttpMethod.Put, $"/files?path={Q(path)}") { Content = chunked };
        request.Headers.TransferEncodingChunked = true;
        using var streamed = await small.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, streamed.StatusCode);
        Assert.Empty(Directory.GetFileSystemEntries(_dir));
        var ok = new ByteArrayContent(new byte[1000]);
        using var fits = await small.Http.PutAsync($"/files?path={Q(path)}", ok);
        Assert.Equal(HttpStatusCode.Created, fits.StatusCode);
    }

    private static StringContent Json(object o) => new(JsonSerializer.Serialize(o), Encoding.UTF8, "application/json");
}
