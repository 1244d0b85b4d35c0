using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Sandbox.E2E.Clipboard;
using Sandbox.E2E.Infrastructure;
using Sandbox.Testing;

namespace Sandbox.E2E.Input;

/// <summary>
/// paste_text and type's method against a Tk entry (tests/Sandbox.E2E/Clipboard/paste_probe.py) on Xvfb,
/// with xclip owning the clipboard before: the entry shows what was pasted, xclip reads what is left.
/// </summary>
public sealed class PasteTextTests(ClipboardFixture f) : IClassFixture<ClipboardFixture>
{
    private const string Unicode = "Grüße, 世界 — ñ";

    private async Task Act(string json, string path = "/computer/action")
    {
        using var content = new StringContent(json, Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var r = await f.App.Http.PostAsync(path, content);
        var body = await r.Content.ReadAsStringAsync();
        Assert.True(r.IsSuccessStatusCode, $"{json} → {(int)r.StatusCode}: {body}");
    }

    private string Clipboard(string target = "UTF8_STRING") =>
        Processes.Check("sh", ["-c", $"xclip -o -selection clipboard -t {target}"], f.Env, timeoutMs: 60_000);

    /// <summary>xclip owns the clipboard with <paramref name="text"/> (it offers exactly TARGETS and UTF8_STRING, which tells it from us).</summary>
    private void XclipOwns(string text)
    {
        var file = Path.Combine(f.Dir, $"before-{Guid.NewGuid():N}.txt");
        File.WriteAllText(file, text, new UTF8Encoding(false));
        Processes.Check("sh", ["-c", $"xclip -i -selection clipboard -t UTF8_STRING < '{file}' > /dev/null 2>&1"], f.Env, timeoutMs: 60_000);
        WaitUntil(XclipIsOwner, "xclip to own the clipboard");
    }

    private bool XclipIsOwner() =>
        Processes.Run("sh", ["-c", "xclip -o -selection clipboard -t TARGETS"], f.Env).Stdout
            .Split('\n', StringSplitOptions.RemoveEmptyEntries).Order().SequenceEqual(new[] { "TARGETS", "UTF8_STRING" });

    private static void WaitUntil(Func<bool> condition, string what, int timeoutMs = 30_000)
    {
        var sw = Stopwatch.StartNew();
        while (!condition())
        {
            if (sw.ElapsedMilliseconds > timeoutMs) throw new TimeoutException("waited in vain for " + what);
            Thread.Sleep(50);
        }
    }

    /// <summary>Starts a focused Tk entry, runs <paramref name="body"/>, waits for the entry to hold <paramref name="expected"/>.</summary>
    private async Task WithEntry(string title, string expected, Func<Task> body)
    {
        var psi = new ProcessStartInfo(Repo.SystemPython)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(Path.Combine(Repo.Root, "tests", "Sandbox.E2E", "Clipboard", "paste_probe.py"));
        psi.ArgumentList.Add(title);
        psi.Environment["DISPLAY"] = f.X.Display;
        psi.Environment.Remove("XAUTHORITY");
        psi.Environment["LANG"] = psi.Environment["LC_ALL"] = "C.UTF-8";
        using var tk = Process.Start(psi)!;
        var lines = new ConcurrentQueue<string>();
        tk.OutputDataReceived += (_, e) => { if (e.Data is not null) lines.Enqueue(e.Data); };
        tk.BeginOutputReadLine();
        tk.BeginErrorReadLine();
        try
        {
            WaitUntil(() => lines.Any(l => l.Contains("\"ready\"")), "the Tk entry to start");
            var window = Processes.Check("xdotool", ["search", "--sync", "--name", title], f.Env).Split('\n')[0].Trim();
            Processes.Check("xdotool", ["windowfocus", "--sync", window], f.Env);
            await body();
            WaitUntil(() => lines.Any(l => l.StartsWith('{') && JsonDocument.Parse(l).RootElement.TryGetProperty("text", out var t)
                && t.GetString() == expected), $"the entry to hold '{expected}' (it printed: {string.Join(" | ", lines)})");
        }
        finally
        {
            if (!tk.HasExited) tk.Kill();
            tk.WaitForExit(5000);
        }
    }

    [Fact]
    public async Task Paste_text_lands_in_the_entry_and_the_previous_clipboard_comes_back()
    {
        XclipOwns("before the paste");
        await WithEntry("paste restore", Unicode, () => Act($$"""{"action": "paste_text", "text": "{{Unicode}}"}"""));
        Assert.Equal("before the paste", Clipboard());
    }

    [Fact]
    public async Task Paste_text_with_restore_false_leaves_our_text()
    {
        XclipOwns("before the paste");
        await WithEntry("paste keep", Unicode, () => Act($$"""{"action": "paste_text", "text": "{{Unicode}}", "restore": false}"""));
        Assert.Equal(Unicode, Clipboard());
    }

    [Fact]
    public async Task Type_method_paste_pastes_and_restores()
    {
        XclipOwns("kept");
        await WithEntry("type paste", "pasted by type", () => Act("""{"action": "type", "text": "pasted by type", "method": "paste"}"""));
        Assert.Equal("kept", Clipboard());
    }

    [Fact]
    public async Task Type_method_auto_types_keymap_text_with_keys_and_leaves_the_clipboard_alone()
    {
        XclipOwns("untouched");
        await WithEntry("type auto", "Hello, wörld €", () => Act("""{"action": "type", "text": "Hello, wörld €", "method": "auto"}"""));
        // A paste (even a restoring one) would have made the appliance the owner; xclip still is.
        Assert.True(XclipIsOwner(), "the clipboard changed owner: type method=auto pasted instead of typing");
        Assert.Equal("untouched", Clipboard());
    }

    [Fact]
    public async Task A_batch_waits_for_a_window_and_an_unmet_wait_fails_with_408_and_stops_the_batch()
    {
        var psi = new ProcessStartInfo(Repo.SystemPython) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(Repo.Root, "tests", "Sandbox.E2E", "Clipboard", "paste_probe.py"));
        psi.ArgumentList.Add("wait probe");
        psi.Environment["DISPLAY"] = f.X.Display;
        psi.Environment.Remove("XAUTHORITY");
        using var tk = Process.Start(psi)!;
        tk.BeginOutputReadLine();
        tk.BeginErrorReadLine();
        try
        {
            // Started, not waited for: the batch's wait does that, then types into it.
            await Act("""{"actions": [{"action": "wait", "until": "window_exists", "window": {"title": "wait probe"}, "timeout_ms": 60000}]}""", "/computer/actions");
            Assert.NotEqual("", Processes.Check("xdotool", ["search", "--name", "wait probe"], f.Env).Trim());

            using var content = new StringContent("""
                {"actions": [{"action": "wait", "until": "window_exists", "window": {"title": "never there"}, "timeout_ms": 100},
                             {"action": "paste_text", "text": "must not run", "restore": false}]}
                """, Encoding.UTF8, "application/json");
            using var r = await f.App.Http.PostAsync("/computer/actions", content);
            var body = await r.Content.ReadAsStringAsync();
            Assert.Equal(408, (int)r.StatusCode);
            Assert.Contains("never there", body);
            Assert.NotEqual("must not run", Processes.Run("sh", ["-c", "xclip -o -selection clipboard"], f.Env).Stdout);
        }
        finally
        {
            if (!tk.HasExited) tk.Kill();
            tk.WaitForExit(5000);
        }
    }
}
