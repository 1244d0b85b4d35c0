using System.Net.WebSockets;
using System.Text.Json;
using Sandbox.E2E.ProcessesApi;

namespace Sandbox.E2E.Files;

/// <summary>GET /files/watch: inotify events for files another process writes, moves and deletes.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class WatchTests(ApplianceFixture fixture) : IClassFixture<ApplianceFixture>
{
    [Fact]
    public async Task A_recursive_watch_reports_what_another_process_does_in_order()
    {
        var dir = Directory.CreateTempSubdirectory("files-watch-").FullName;
        try
        {
            using var ws = new ClientWebSocket();
            await ws.ConnectAsync(new Uri($"ws://127.0.0.1:{fixture.App.Port}/files/watch?path={Uri.EscapeDataString(dir)}&recursive=true"), CancellationToken.None);
            Assert.Equal("ready", (await Next(ws)).Type);

            Sandbox.Testing.Processes.Check("sh", ["-c", $"cd {dir} && mkdir sub"]);
            Assert.Equal(("created", dir + "/sub"), await NextOf(ws));
            Sandbox.Testing.Processes.Check("sh", ["-c", $"cd {dir} && echo hi > sub/a.txt && mv sub/a.txt b.txt && rm b.txt"]);
            var seen = new List<(string, string)>();
            while (seen.Count < 5) seen.Add(await NextOf(ws));
            Assert.Equal(
            [
                ("created", dir + "/sub/a.txt"), ("modified", dir + "/sub/a.txt"),
                ("moved_from", dir + "/sub/a.txt"), ("moved_to", dir + "/b.txt"), ("deleted", dir + "/b.txt"),
            ], seen);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public async Task A_watch_on_a_file_that_does_not_exist_yet_reports_its_arrival_by_SSE()
    {
        var dir = Directory.CreateTempSubdirectory("files-watch-").FullName;
        try
        {
            var target = Path.Combine(dir, "download.zip");
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            using var r = await fixture.App.Http.GetAsync($"/files/watch?path={Uri.EscapeDataString(target)}", HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            using var reader = new StreamReader(await r.Content.ReadAsStreamAsync(timeout.Token));
            var types = new List<string>();
            while (await reader.ReadLineAsync(timeout.Token) is { } line)
            {
                if (!line.StartsWith("data: ")) continue;
                var e = JsonDocument.Parse(line[6..]).RootElement;
                var type = e.GetProperty("type").GetString()!;
                if (type == "ready")
                {
                    Sandbox.Testing.Processes.Check("sh", ["-c", $"echo other > {dir}/other.txt; printf zip > {target}"]);
                    continue;
                }
                Assert.Equal(target, e.GetProperty("path").GetString());
                types.Add(type);
                if (type == "modified") break;
            }
            Assert.Equal(["created", "modified"], types);
        }
        finally { Directory.Delete(dir, true); }
    }

    private sealed record Ev(string Type, string Path);

    private static async Task<Ev> Next(ClientWebSocket ws)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var buffer = new byte[65536];
        var r = await ws.ReceiveAsync(buffer, timeout.Token);
        var e = JsonDocument.Parse(buffer.AsMemory(0, r.Count)).RootElement;
        return new Ev(e.GetProperty("type").GetString()!, e.GetProperty("path").GetString()!);
    }

    private static async Task<(string, string)> NextOf(ClientWebSocket ws)
    {
        var e = await Next(ws);
        return (e.Type, e.Path);
    }
}
