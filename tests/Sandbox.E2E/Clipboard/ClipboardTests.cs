using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Sandbox.E2E.Infrastructure;
using Sandbox.Testing;

namespace Sandbox.E2E.Clipboard;

/// <summary>One Xvfb (no window manager needed for selections) and one published appliance.</summary>
public sealed class ClipboardFixture : IDisposable
{
    public ClipboardFixture()
    {
        X = XvfbServer.Start(1280, 800);
        try { App = ApplianceProcess.Start(X); }
        catch { X.Dispose(); throw; }
        Dir = Directory.CreateTempSubdirectory("sandbox-clip-").FullName;
    }

    public XvfbServer X { get; }
    public ApplianceProcess App { get; }
    public string Dir { get; }
    public Dictionary<string, string?> Env => new(X.Env);

    public void Dispose()
    {
        App.Dispose();
        X.Dispose();
        try { Directory.Delete(Dir, recursive: true); } catch (IOException) { }
    }
}

/// <summary>
/// The clipboard against real X clients: xclip reads what we own and owns what we read (plain and INCR,
/// text and PNG), and a Tk entry pastes our clipboard with ctrl+v.
/// </summary>
public sealed class ClipboardTests(ClipboardFixture f) : IClassFixture<ClipboardFixture>
{
    private const string Unicode = "Grüße, 世界 — ñ";

    private async Task PutText(string text, string selection = "clipboard")
    {
        using var body = new ByteArrayContent(Encoding.UTF8.GetBytes(text));
        body.Headers.ContentType = new MediaTypeHeaderValue("text/plain") { CharSet = "utf-8" };
        using var r = await f.App.Http.PutAsync($"/clipboard?selection={selection}", body);
        Assert.True(r.IsSuccessStatusCode, await r.Content.ReadAsStringAsync());
    }

    private async Task<(HttpStatusCode Status, byte[] Body, string? Type)> Get(string query)
    {
        using var r = await f.App.Http.GetAsync("/clipboard" + query);
        return (r.StatusCode, await r.Content.ReadAsByteArrayAsync(), r.Content.Headers.ContentType?.MediaType);
    }

    /// <summary>Runs xclip through a shell so binary data goes through files, never through .NET strings.</summary>
    private void Sh(string script) => Processes.Check("sh", ["-c", script], f.Env, timeoutMs: 60_000);

    /// <summary>xclip -i forks a server that owns the selection until another client takes it; wait until it does.</summary>
    private void XclipOwns(string selection, string file, string target)
    {
        Sh($"xclip -i -selection {selection} -t '{target}' < '{file}' > /dev/null 2>&1");
        // xclip offers exactly TARGETS and its one target; we offer several text targets (callers make
        // sure we hold text before), so this tells xclip's ownership from ours.
        WaitUntil(() => Processes.Run("sh", ["-c", $"xclip -o -selection {selection} -t TARGETS"], f.Env).Stdout
            .Split('\n', StringSplitOptions.RemoveEmptyEntries).Order().SequenceEqual(new[] { "TARGETS", target }.Order()),
            $"xclip to own {selection}");
    }

    private static void WaitUntil(Func<bool> condition, string what, int timeoutMs = 20_000)
    {
        var sw = Stopwatch.StartNew();
        while (!condition())
        {
            if (sw.ElapsedMilliseconds > timeoutMs) throw new TimeoutException("waited in vain for " + what);
            Thread.Sleep(50);
        }
    }

    [Fact]
    public async Task Xclip_reads_the_unicode_text_we_set_in_every_text_target()
    {
        await PutText(Unicode);
        var o = Path.Combine(f.Dir, "u8.txt");
        Sh($"xclip -o -selection clipboard -t UTF8_STRING > '{o}'");
        Assert.Equal(Unicode, File.ReadAllText(o, Encoding.UTF8));
        Sh($"xclip -o -selection clipboard -t 'text/plain;charset=utf-8' > '{o}'");
        Assert.Equal(Unicode, File.ReadAllText(o, Encoding.UTF8));
        var targets = Processes.Check("sh", ["-c", "xclip -o -selection clipboard -t TARGETS"], f.Env);
        foreach (var t in new[] { "TARGETS", "UTF8_STRING", "STRING", "TEXT", "text/plain;charset=utf-8" })
            Assert.Contains(t, targets.Split('\n'));
        // STRING is Latin-1: what it can hold arrives as Latin-1 bytes.
        Sh($"xclip -o -selection clipboard -t STRING > '{o}'");
        Assert.Equal("Grüße, ", Encoding.Latin1.GetString(File.ReadAllBytes(o))[..7]);
        // And we read back our own content.
        var (status, body, type) = await Get("");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("text/plain", type);
        Assert.Equal(Unicode, Encoding.UTF8.GetString(body));
    }

    [Fact]
    public async Task We_read_what_xclip_owns_and_lose_ownership_to_it()
    {
        await PutText("ours");
        var file = Path.Combine(f.Dir, "theirs.txt");
        File.WriteAllText(file, Unicode + " from xclip", new UTF8Encoding(false));
        XclipOwns("clipboard", file, "UTF8_STRING");
        var (status, body, _) = await Get("?selection=clipboard&type=text");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(Unicode + " from xclip", Encoding.UTF8.GetString(body));
    }

    [Fact]
    public async Task Primary_is_separate_from_clipboard()
    {
        await PutText("the clipboard");
        await PutText("the primary", "primary");
        Assert.Equal("the primary", Processes.Check("sh", ["-c", "xclip -o -selection primary"], f.Env));
        Assert.Equal("the clipboard", Processes.Check("sh", ["-c", "xclip -o -selection clipboard"], f.Env));
    }

    [Fact]
    public async Task Ten_megabytes_go_both_ways_with_INCR()
    {
        var text = new StringBuilder();
        var rng = new Random(14);
        while (text.Length < 10 << 20) text.Append(Unicode).Append(' ').Append(rng.Next()).Append('\n');
        var data = Encoding.UTF8.GetBytes(text.ToString());
        var file = Path.Combine(f.Dir, "big.txt");
        await File.WriteAllBytesAsync(file, data);

        using (var body = new ByteArrayContent(data))
        {
            body.Headers.ContentType = new MediaTypeHeaderValue("text/plain");
            using var r = await f.App.Http.PutAsync("/clipboard", body);
            Assert.True(r.IsSuccessStatusCode, await r.Content.ReadAsStringAsync());
        }
        var got = Path.Combine(f.Dir, "big.out");
        Sh($"xclip -o -selection clipboard -t UTF8_STRING > '{got}'");
        Assert.True(data.AsSpan().SequenceEqual(File.ReadAllBytes(got)), "xclip read different bytes than we set");

        // xclip owns 10 MB (it sends them with INCR: more than one request can carry); we read them.
        XclipOwns("clipboard", file, "UTF8_STRING");
        var (status, read, _) = await Get("");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.True(data.AsSpan().SequenceEqual(read), $"read {read.Length} bytes, expected {data.Length}");
    }

    [Fact]
    public async Task A_png_round_trips_both_ways()
    {
        var png = await File.ReadAllBytesAsync(Repo.Scene("office.png"));
        using (var body = new ByteArrayContent(png))
        {
            body.Headers.ContentType = new MediaTypeHeaderValue("image/png");
            using var r = await f.App.Http.PutAsync("/clipboard", body);
            Assert.True(r.IsSuccessStatusCode, await r.Content.ReadAsStringAsync());
        }
        var got = Path.Combine(f.Dir, "got.png");
        Sh($"xclip -o -selection clipboard -t image/png > '{got}'");
        Assert.True(png.AsSpan().SequenceEqual(File.ReadAllBytes(got)));
        // Text is refused while an image is held.
        Assert.Equal(HttpStatusCode.NotFound, (await Get("?type=text")).Status);

        await PutText("text first");
        XclipOwns("clipboard", Repo.Scene("office.png"), "image/png");
        var (status, read, type) = await Get("?type=image");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("image/png", type);
        Assert.True(png.AsSpan().SequenceEqual(read));
    }

    [Fact]
    public async Task A_tk_entry_pastes_our_clipboard_with_ctrl_v()
    {
        var psi = new ProcessStartInfo(Repo.SystemPython)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(Path.Combine(Repo.Root, "tests", "Sandbox.E2E", "Clipboard", "paste_probe.py"));
        psi.ArgumentList.Add("paste probe");
        psi.Environment["DISPLAY"] = f.X.Display;
        psi.Environment.Remove("XAUTHORITY");
        psi.Environment["LANG"] = psi.Environment["LC_ALL"] = "C.UTF-8";
        using var tk = Process.Start(psi)!;
        var lines = new System.Collections.Concurrent.ConcurrentQueue<string>();
        tk.OutputDataReceived += (_, e) => { if (e.Data is not null) lines.Enqueue(e.Data); };
        tk.BeginOutputReadLine();
        tk.BeginErrorReadLine();
        try
        {
            WaitUntil(() => lines.Any(l => l.Contains("\"ready\"")), "the Tk entry to start");
            await PutText(Unicode);
            var window = Processes.Check("xdotool", ["search", "--sync", "--name", "paste probe"], f.Env).Split('\n')[0].Trim();
            Processes.Check("xdotool", ["windowfocus", "--sync", window], f.Env);
            Processes.Check("xdotool", ["key", "--clearmodifiers", "ctrl+v"], f.Env);
            WaitUntil(() => lines.Any(l => l.StartsWith('{') && JsonDocument.Parse(l).RootElement.TryGetProperty("text", out var t)
                && t.GetString() == Unicode), "the entry to hold the pasted text");
        }
        finally
        {
            if (!tk.HasExited) tk.Kill();
            tk.WaitForExit(5000);
        }
    }

    [Fact]
    public async Task A_gtk_entry_pastes_ours_and_we_read_what_gtk_copies()
    {
        var psi = new ProcessStartInfo("zenity") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "--entry", "--title", "gtk paste", "--text", "paste here" }) psi.ArgumentList.Add(a);
        foreach (var (k, v) in f.Env)
            if (v is null) psi.Environment.Remove(k); else psi.Environment[k] = v;
        psi.Environment["LANG"] = psi.Environment["LC_ALL"] = "C.UTF-8";
        psi.Environment["NO_AT_BRIDGE"] = "1";
        using var zenity = Process.Start(psi)!;
        var stdout = zenity.StandardOutput.ReadToEndAsync();
        _ = zenity.StandardError.ReadToEndAsync();
        try
        {
            var window = Processes.Check("xdotool", ["search", "--sync", "--onlyvisible", "--name", "gtk paste"], f.Env, timeoutMs: 60_000)
                .Split('\n')[0].Trim();
            await PutText(Unicode);
            Processes.Check("xdotool", ["windowfocus", "--sync", window], f.Env);
            // GTK copies the entry's text (select all, ctrl+c) after our paste: GTK then owns CLIPBOARD.
            Processes.Check("xdotool", ["key", "--clearmodifiers", "ctrl+v"], f.Env);
            Processes.Check("xdotool", ["type", "--delay", "20", "!"], f.Env);
            Processes.Check("xdotool", ["key", "--clearmodifiers", "ctrl+a", "ctrl+c"], f.Env);
            WaitUntil(() => Get("").Result is { Status: HttpStatusCode.OK } r && Encoding.UTF8.GetString(r.Body) == Unicode + "!",
                "GTK to own the clipboard with the pasted text");
            Processes.Check("xdotool", ["key", "--clearmodifiers", "Return"], f.Env);
            Assert.True(zenity.WaitForExit(30_000), "zenity did not close on Return");
            Assert.Equal(Unicode + "!", (await stdout).TrimEnd('\n'));
        }
        finally
        {
            if (!zenity.HasExited) zenity.Kill();
            zenity.WaitForExit(5000);
        }
    }

    [Fact]
    public async Task Bad_requests_get_clear_4xx_answers()
    {
        using (var xml = new StringContent("<a/>", Encoding.UTF8, "application/xml"))
        using (var r = await f.App.Http.PutAsync("/clipboard", xml))
            Assert.Equal(HttpStatusCode.UnsupportedMediaType, r.StatusCode);
        using (var notPng = new ByteArrayContent([1, 2, 3]))
        {
            notPng.Headers.ContentType = new MediaTypeHeaderValue("image/png");
            using var r = await f.App.Http.PutAsync("/clipboard", notPng);
            Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        }
        using (var latin = new ByteArrayContent([0x66, 0xFC]))
        {
            latin.Headers.ContentType = new MediaTypeHeaderValue("text/plain") { CharSet = "utf-8" };
            using var r = await f.App.Http.PutAsync("/clipboard", latin);
            Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        }
        var (status, body, _) = await Get("?selection=secondary");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("selection", Encoding.UTF8.GetString(body));
        Assert.Equal(HttpStatusCode.BadRequest, (await Get("?type=video")).Status);

        // JSON {"text"} is the other way to set text.
        using (var json = new StringContent("{\"text\":\"via json\"}", Encoding.UTF8, "application/json"))
        using (var r = await f.App.Http.PutAsync("/clipboard", json))
            Assert.True(r.IsSuccessStatusCode);
        Assert.Equal("via json", Processes.Check("sh", ["-c", "xclip -o -selection clipboard"], f.Env));
    }
}
