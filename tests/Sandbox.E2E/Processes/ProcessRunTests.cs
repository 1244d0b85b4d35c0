using System.Text;
using System.Text.Json;
using Sandbox.E2E.Infrastructure;
using Xunit.Abstractions;

namespace Sandbox.E2E.ProcessesApi;

// The namespace is not Sandbox.E2E.Processes: that would hide Sandbox.Testing.Processes from every E2E file.
/// <summary>POST /process/run against the published binary: exit status, streams, encodings, limits, timeouts.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class ProcessRunTests(ApplianceFixture fixture, ITestOutputHelper output) : IClassFixture<ApplianceFixture>
{
    private HttpClient Http => fixture.App.Http;

    [Fact]
    public async Task A_shell_command_returns_its_exit_code_stdout_and_stderr()
    {
        var a = await Run.OkAsync(Http, new { command = "echo out; echo err >&2; exit 7" });
        Assert.Equal(7, a.GetProperty("exit_code").GetInt32());
        Assert.Equal(JsonValueKind.Null, a.GetProperty("signal").ValueKind);
        Assert.Equal("out\n", a.GetProperty("stdout").GetString());
        Assert.Equal("err\n", a.GetProperty("stderr").GetString());
        Assert.False(a.GetProperty("timed_out").GetBoolean());
        Assert.False(a.GetProperty("truncated").GetBoolean());
        Assert.Equal("utf-8", a.GetProperty("stdout_encoding").GetString());
    }

    [Fact]
    public async Task Argv_runs_without_a_shell_in_the_given_directory_with_the_given_environment()
    {
        var dir = Directory.CreateTempSubdirectory("proc-cwd-").FullName;
        try
        {
            var a = await Run.OkAsync(Http, new
            {
                argv = new[] { "sh", "-c", "pwd; printf '%s|' \"$GREETING\" \"$1\"", "x", "a b;$(echo no)" },
                cwd = dir,
                env = new Dictionary<string, string> { ["GREETING"] = "héllo wörld" },
            });
            Assert.Equal($"{dir}\nhéllo wörld|a b;$(echo no)|", a.GetProperty("stdout").GetString());
            Assert.Equal(0, a.GetProperty("exit_code").GetInt32());
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public async Task Stdin_is_fed_as_text_or_base64_and_the_token_is_not_in_the_environment()
    {
        var a = await Run.OkAsync(Http, new { argv = new[] { "cat" }, stdin = "line 1\nlíne 2\n" });
        Assert.Equal("line 1\nlíne 2\n", a.GetProperty("stdout").GetString());
        var raw = new byte[] { 0, 1, 2, 0xff, 0xfe, 10, 0x80 };
        var b = await Run.OkAsync(Http, new { argv = new[] { "cat" }, stdin = Convert.ToBase64String(raw), stdin_encoding = "base64" });
        Assert.Equal("base64", b.GetProperty("stdout_encoding").GetString());
        Assert.Equal(raw, Run.Bytes(b, "stdout"));
        var env = await Run.OkAsync(Http, new { command = "env" });
        Assert.DoesNotContain("SANDBOX_TOKEN", env.GetProperty("stdout").GetString());
    }

    [Fact]
    public async Task Output_that_is_not_UTF8_comes_back_base64_byte_for_byte()
    {
        var a = await Run.OkAsync(Http, new { command = "printf 'ok\\n'; printf '\\377\\376bin\\000ary\\303' >&2" });
        Assert.Equal("utf-8", a.GetProperty("stdout_encoding").GetString());
        Assert.Equal("base64", a.GetProperty("stderr_encoding").GetString());
        Assert.Equal(new byte[] { 0xff, 0xfe, (byte)'b', (byte)'i', (byte)'n', 0, (byte)'a', (byte)'r', (byte)'y', 0xc3 }, Run.Bytes(a, "stderr"));
    }

    [Fact]
    public async Task Output_beyond_max_output_bytes_is_cut_and_flagged_while_the_command_runs_to_its_end()
    {
        var a = await Run.OkAsync(Http, new { command = "head -c 3000000 /dev/zero | tr '\\0' x; echo done >&2", max_output_bytes = 1000 });
        Assert.Equal(new string('x', 1000), a.GetProperty("stdout").GetString());
        Assert.Equal("done\n", a.GetProperty("stderr").GetString());
        Assert.True(a.GetProperty("truncated").GetBoolean());
        Assert.Equal(0, a.GetProperty("exit_code").GetInt32());
    }

    [Fact]
    public async Task A_timeout_kills_the_whole_process_tree_and_no_orphan_is_left()
    {
        var pidFile = Path.Combine(Path.GetTempPath(), $"proc-tree-{Guid.NewGuid():N}");
        try
        {
            // A child and a grandchild, both in the command's process group.
            var a = await Run.OkAsync(Http, new
            {
                command = $"sh -c 'sleep 300 & echo $! > {pidFile}; wait' & sleep 300",
                timeout_s = 1.5,
            });
            Assert.True(a.GetProperty("timed_out").GetBoolean());
            Assert.Equal(9, a.GetProperty("signal").GetInt32());
            Assert.Equal(JsonValueKind.Null, a.GetProperty("exit_code").ValueKind);
            var grandchild = int.Parse(await Run.WaitFileAsync(pidFile));
            await Run.WaitGoneAsync(grandchild);
            await Run.WaitGoneAsync(a.GetProperty("pid").GetInt32());
            output.WriteLine($"timeout: command {a.GetProperty("pid")} and grandchild {grandchild} gone after {a.GetProperty("duration_ms")} ms");
        }
        finally { File.Delete(pidFile); }
    }

    [Fact]
    public async Task A_command_that_leaves_a_background_child_returns_without_waiting_for_it()
    {
        var a = await Run.OkAsync(Http, new { command = "sleep 300 & echo $!", timeout_s = 60 });
        Assert.Equal(0, a.GetProperty("exit_code").GetInt32());
        Assert.False(a.GetProperty("timed_out").GetBoolean());
        var pid = int.Parse(a.GetProperty("stdout").GetString()!.Trim());
        try { Assert.False(Run.IsGone(pid)); }
        finally { Sandbox.Testing.Processes.Run("kill", ["-9", pid.ToString()]); }
    }

    [Fact]
    public async Task Fifty_concurrent_runs_each_get_their_own_output()
    {
        var runs = Enumerable.Range(0, 50).Select(i => Run.OkAsync(Http, new { command = $"echo start {i}; sleep 0.2; echo end {i} >&2; exit {i % 7}" })).ToArray();
        var answers = await Task.WhenAll(runs);
        for (var i = 0; i < 50; i++)
        {
            Assert.Equal($"start {i}\n", answers[i].GetProperty("stdout").GetString());
            Assert.Equal($"end {i}\n", answers[i].GetProperty("stderr").GetString());
            Assert.Equal(i % 7, answers[i].GetProperty("exit_code").GetInt32());
        }
    }

    [Theory]
    [InlineData("{}", "command")]
    [InlineData("{\"argv\": []}", "argv")]
    [InlineData("{\"argv\": [\"no-such-program-xyz\"]}", "no-such-program-xyz")]
    [InlineData("{\"command\": \"true\", \"cwd\": \"/no/such/dir\"}", "cwd")]
    [InlineData("{\"command\": \"true\", \"timeout_s\": -1}", "timeout_s")]
    [InlineData("{\"command\": \"true\", \"stdin\": \"%%%\", \"stdin_encoding\": \"base64\"}", "stdin")]
    [InlineData("{\"command\": \"true\", \"shell\": false}", "shell")]
    [InlineData("{\"command\": 5}", "body")]
    public async Task Bad_requests_are_400_naming_the_field(string body, string named)
    {
        using var r = await Http.PostAsync("/process/run", new StringContent(body, Encoding.UTF8, "application/json"));
        var text = await r.Content.ReadAsStringAsync();
        Assert.True((int)r.StatusCode == 400, $"{body} → {(int)r.StatusCode} {text}");
        var e = JsonDocument.Parse(text).RootElement;
        Assert.Equal("Bad Request", e.GetProperty("reason").GetString());
        Assert.Contains(named, e.GetProperty("message").GetString());
    }
}
