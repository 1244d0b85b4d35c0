using System.Net;
using System.Text;
using System.Text.Json;
using Sandbox.Testing;

namespace Sandbox.E2E.Desktop;

/// <summary>POST /apps/launch under openbox: the window that appeared, or a clean 408.</summary>
public sealed class LaunchTests(OpenboxFixture f) : IClassFixture<OpenboxFixture>
{
    private async Task<(HttpStatusCode Status, JsonElement Body)> Launch(string json)
    {
        using var body = new StringContent(json, Encoding.UTF8, "application/json");
        using var r = await f.App.Http.PostAsync("/apps/launch", body);
        return (r.StatusCode, JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement.Clone());
    }

    private void Kill(int pid) => Processes.Run("kill", ["-KILL", "--", "-" + pid]);

    [Fact]
    public async Task Argv_with_a_pid_wait_returns_the_window_of_that_process()
    {
        var (status, body) = await Launch("{\"argv\":[\"xterm\",\"-T\",\"launched by argv\"],\"wait\":{\"window\":{\"pid\":true},\"timeout_s\":60}}");
        Assert.Equal(HttpStatusCode.OK, status);
        var pid = body.GetProperty("pid").GetInt32();
        try
        {
            var window = body.GetProperty("window");
            Assert.Equal(pid, window.GetProperty("pid").GetInt32());
            Assert.Equal("launched by argv", window.GetProperty("title").GetString());
            // The same window as xdotool finds by that pid.
            var ids = Processes.Check("xdotool", ["search", "--pid", pid.ToString()], f.Env).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Contains(window.GetProperty("id").GetUInt64().ToString(), ids);
            // Its own process group: the appliance's group is not the child's.
            var pgid = File.ReadAllText($"/proc/{pid}/stat").Split(") ")[1].Split(' ')[2];
            Assert.Equal(pid.ToString(), pgid);
        }
        finally { Kill(pid); }
    }

    [Fact]
    public async Task A_shell_command_waited_for_by_title_through_the_shell()
    {
        var (status, body) = await Launch("{\"command\":\"exec xterm -T 'by shell'\",\"wait\":{\"window\":{\"title\":\"by shell\",\"class\":\"xterm\"},\"timeout_s\":60}}");
        Assert.Equal(HttpStatusCode.OK, status);
        try { Assert.Equal("by shell", body.GetProperty("window").GetProperty("title").GetString()); }
        finally { Kill(body.GetProperty("pid").GetInt32()); }
    }

    [Fact]
    public async Task A_command_that_opens_no_window_times_out_cleanly()
    {
        var (status, body) = await Launch("{\"argv\":[\"sleep\",\"30\"],\"wait\":{\"window\":{\"pid\":true},\"timeout_s\":1}}");
        Assert.Equal(HttpStatusCode.RequestTimeout, status);
        var message = body.GetProperty("message").GetString()!;
        Assert.Contains("no window with _NET_WM_PID", message);
        Assert.Contains("sleep", message);
        var pid = int.Parse(System.Text.RegularExpressions.Regex.Match(message, @"pid (\d+)").Groups[1].Value);
        Kill(pid);
    }

    [Fact]
    public async Task Bad_launches_get_4xx()
    {
        Assert.Equal(HttpStatusCode.BadRequest, (await Launch("{}")).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await Launch("{\"argv\":[\"xterm\"],\"command\":\"xterm\"}")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await Launch("{\"argv\":[\"no-such-program-here\"]}")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await Launch("{\"desktop_entry\":\"no-such-entry\"}")).Status);
    }
}
