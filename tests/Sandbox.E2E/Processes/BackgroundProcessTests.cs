using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Xunit.Abstractions;

namespace Sandbox.E2E.ProcessesApi;

/// <summary>Background processes: start, list, stdin, signals, a real terminal with resize, streams with replay.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class BackgroundProcessTests(ApplianceFixture fixture, ITestOutputHelper output) : IClassFixture<ApplianceFixture>
{
    private HttpClient Http => fixture.App.Http;

    private async Task<JsonElement> Post(string path, object body, int status = 200)
    {
        var (s, answer) = await Run.PostAsync(Http, path, body);
        Assert.True(s == status, $"POST {path} → {s}: {answer}");
        return answer;
    }

    [Fact]
    public async Task A_background_process_takes_stdin_is_listed_and_its_stream_ends_with_the_exit()
    {
        var p = await Post("/process/start", new { argv = new[] { "sh", "-c", "read a; echo got $a; echo err >&2; exit 3" }, tag = "reader" }, 201);
        var id = p.GetProperty("id").GetString()!;
        Assert.Equal("running", p.GetProperty("state").GetString());
        var list = await fixture.App.GetJsonAsync("/process");
        Assert.Contains(list.GetProperty("processes").EnumerateArray(), x => x.GetProperty("id").GetString() == id && x.GetProperty("tag").GetString() == "reader");
        await Post($"/process/{id}/stdin", new { data = "hello\n" });

        var events = await SseAsync(id, 0);
        Assert.Equal("got hello\n", string.Concat(events.Where(e => e.GetProperty("type").GetString() == "stdout").Select(e => e.GetProperty("data").GetString())));
        Assert.Equal("err\n", string.Concat(events.Where(e => e.GetProperty("type").GetString() == "stderr").Select(e => e.GetProperty("data").GetString())));
        Assert.Equal("exit", events[^1].GetProperty("type").GetString());
        Assert.Equal(3, events[^1].GetProperty("exit_code").GetInt32());

        // Replay from a sequence number: only what came after it.
        var after = await SseAsync(id, events[0].GetProperty("seq").GetInt64());
        Assert.Equal(events.Count - 1, after.Count);
        var info = await fixture.App.GetJsonAsync($"/process/{id}");
        Assert.Equal("exited", info.GetProperty("state").GetString());
        Assert.Equal(3, info.GetProperty("exit_code").GetInt32());
    }

    [Fact]
    public async Task Signals_reach_the_process_group_and_delete_ends_it()
    {
        var p = await Post("/process/start", new { command = "trap 'echo int; exit 5' INT; echo ready; while true; do sleep 0.1; done" }, 201);
        var id = p.GetProperty("id").GetString()!;
        await WaitOutputAsync(id, "ready");
        await Post($"/process/{id}/signal", new { signal = "INT" });
        var events = await SseAsync(id, 0);
        Assert.Equal(5, events[^1].GetProperty("exit_code").GetInt32());

        var q = await Post("/process/start", new { command = "sleep 300" }, 201);
        var qid = q.GetProperty("id").GetString()!;
        using var del = await Http.DeleteAsync($"/process/{qid}");
        var ended = JsonDocument.Parse(await del.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(9, ended.GetProperty("signal").GetInt32());
        await Run.WaitGoneAsync(q.GetProperty("pid").GetInt32());
        using var gone = await Http.GetAsync($"/process/{qid}");
        Assert.Equal(404, (int)gone.StatusCode);
        var (bad, _) = await Run.PostAsync(Http, $"/process/{id}/signal", new { signal = "NOPE" });
        Assert.Equal(400, bad);
    }

    [Fact]
    public async Task A_pty_runs_bash_with_a_controlling_terminal_that_follows_resize()
    {
        var p = await Post("/process/start", new { argv = new[] { "bash", "--norc", "--noprofile", "-i" }, pty = new { cols = 100, rows = 30 }, env = new Dictionary<string, string> { ["PS1"] = "$ " } }, 201);
        var id = p.GetProperty("id").GetString()!;
        using var ws = await ConnectAsync(id, 0);
        var screen = new StringBuilder();
        // Type only at the prompt: an interactive bash may flush typeahead while it sets the terminal up.
        await ReadUntilAsync(ws, screen, "$ ");
        await SendAsync(ws, new { type = "stdin", data = "stty size\n" });
        await ReadUntilAsync(ws, screen, "30 100");
        await SendAsync(ws, new { type = "stdin", data = "tty; echo TERM=$TERM\n" });
        await ReadUntilAsync(ws, screen, "TERM=xterm-256color");
        Assert.Contains("/dev/pts/", screen.ToString());
        await SendAsync(ws, new { type = "resize", cols = 132, rows = 43 });
        await SendAsync(ws, new { type = "stdin", data = "stty size\n" });
        await ReadUntilAsync(ws, screen, "43 132");
        await SendAsync(ws, new { type = "stdin", data = "exit 4\n" });
        var exit = await ReadUntilAsync(ws, screen, null);
        Assert.Equal(4, exit.GetProperty("exit_code").GetInt32());
    }

    [Fact]
    public async Task A_pty_drives_the_python_REPL_and_a_reconnect_replays_what_was_missed()
    {
        var p = await Post("/process/start", new { argv = new[] { "python3", "-i", "-q" }, pty = new { cols = 80, rows = 24 } }, 201);
        var id = p.GetProperty("id").GetString()!;
        long last;
        var screen = new StringBuilder();
        using (var ws = await ConnectAsync(id, 0))
        {
            await ReadUntilAsync(ws, screen, ">>> ");
            await SendAsync(ws, new { type = "stdin", data = "print(6*7)\n" });
            var e = await ReadUntilAsync(ws, screen, "42");
            last = e.GetProperty("seq").GetInt64();
            await ws.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
        }
        // While nobody listens.
        await Post($"/process/{id}/stdin", new { data = "print('while away', 2**10)\n" });
        await WaitOutputAsync(id, "while away 1024");
        var replay = new StringBuilder();
        using (var ws = await ConnectAsync(id, last))
        {
            await ReadUntilAsync(ws, replay, "while away 1024");
            Assert.DoesNotContain("42", replay.ToString().Split("while away")[0].Replace("6*7", ""));
            await SendAsync(ws, new { type = "eof" });
            var exit = await ReadUntilAsync(ws, replay, null);
            Assert.Equal(0, exit.GetProperty("exit_code").GetInt32());
        }
    }

    private async Task<ClientWebSocket> ConnectAsync(string id, long since)
    {
        var ws = new ClientWebSocket();
        await ws.ConnectAsync(new Uri($"ws://127.0.0.1:{fixture.App.Port}/process/{id}/stream?since={since}"), CancellationToken.None);
        return ws;
    }

    private static Task SendAsync(ClientWebSocket ws, object message) =>
        ws.SendAsync(JsonSerializer.SerializeToUtf8Bytes(message), WebSocketMessageType.Text, true, CancellationToken.None);

    /// <summary>Reads events into <paramref name="screen"/> until it contains <paramref name="text"/> (or, for null, the exit event).</summary>
    private async Task<JsonElement> ReadUntilAsync(ClientWebSocket ws, StringBuilder screen, string? text)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var buffer = new byte[1 << 16];
        while (true)
        {
            using var message = new MemoryStream();
            WebSocketReceiveResult r;
            try
            {
                do { r = await ws.ReceiveAsync(buffer, timeout.Token); message.Write(buffer, 0, r.Count); } while (!r.EndOfMessage);
            }
            catch (OperationCanceledException) { throw new TimeoutException($"waiting for {text ?? "exit"}; the terminal showed:\n{screen}"); }
            if (r.MessageType == WebSocketMessageType.Close) throw new InvalidOperationException($"closed before {text ?? "exit"}:\n{screen}");
            var e = JsonDocument.Parse(message.ToArray()).RootElement.Clone();
            var type = e.GetProperty("type").GetString();
            if (type == "exit") { if (text is null) return e; throw new InvalidOperationException($"exited before {text}:\n{screen}"); }
            if (type == "error") throw new InvalidOperationException(e.GetProperty("data").GetString());
            screen.Append(e.GetProperty("encoding").GetString() == "base64"
                ? Encoding.UTF8.GetString(Convert.FromBase64String(e.GetProperty("data").GetString()!))
                : e.GetProperty("data").GetString());
            if (text is not null && screen.ToString().Contains(text)) return e;
        }
    }

    private async Task<List<JsonElement>> SseAsync(string id, long since)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var request = new HttpRequestMessage(HttpMethod.Get, $"/process/{id}/stream");
        request.Headers.Add("Last-Event-ID", since.ToString());
        using var r = await Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        Assert.Equal("text/event-stream", r.Content.Headers.ContentType!.MediaType);
        using var reader = new StreamReader(await r.Content.ReadAsStreamAsync(timeout.Token));
        var events = new List<JsonElement>();
        while (await reader.ReadLineAsync(timeout.Token) is { } line)
            if (line.StartsWith("data: ")) events.Add(JsonDocument.Parse(line[6..]).RootElement.Clone());
        return events;
    }

    private async Task WaitOutputAsync(string id, string text)
    {
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < TimeSpan.FromSeconds(60))
        {
            // A short SSE read of what is held so far: the stream stays open while the process runs, so read with a deadline.
            using var cut = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));
            var seen = new StringBuilder();
            try
            {
                using var r = await Http.GetAsync($"/process/{id}/stream", HttpCompletionOption.ResponseHeadersRead, cut.Token);
                using var reader = new StreamReader(await r.Content.ReadAsStreamAsync(cut.Token));
                while (await reader.ReadLineAsync(cut.Token) is { } line)
                {
                    if (!line.StartsWith("data: ")) continue;
                    var e = JsonDocument.Parse(line[6..]).RootElement;
                    if (e.TryGetProperty("data", out var d) && d.ValueKind == JsonValueKind.String) seen.Append(d.GetString());
                    if (seen.ToString().Contains(text)) return;
                }
            }
            catch (OperationCanceledException) { }
            if (seen.ToString().Contains(text)) return;
        }
        Assert.Fail($"process {id} never printed {text}");
    }
}
