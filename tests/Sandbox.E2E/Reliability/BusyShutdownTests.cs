using System.Diagnostics;
using System.Globalization;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Sandbox.E2E.Infrastructure;
using Sandbox.E2E.Input;
using Sandbox.E2E.Recording;
using Sandbox.Testing;
using Xunit.Abstractions;
using static Sandbox.Testing.JupyterWsClient;

namespace Sandbox.E2E.Reliability;

/// <summary>
/// SIGTERM while everything is busy: a recording with video, a kernel running a cell (with a child of its
/// own), an action holding a key, a live viewer and clients fetching screenshots. The appliance must exit
/// 0 within 5 s (systemd's stop timeout in packaging/ is longer; agents' VMs are often stopped with less)
/// with the recording finalized, the kernels and their children gone, nothing held and no shared memory.
/// </summary>
[Collection("Reliability")]
public sealed class BusyShutdownTests(ITestOutputHelper output)
{
    private const double ExitBoundSeconds = 5;

    [Fact]
    public async Task SIGTERM_with_everything_busy_finalizes_the_recording_stops_kernels_and_exits_in_time()
    {
        using var x = XvfbServer.Start(1280, 720);
        x.Paint(Repo.Scene("office.png"));
        var shared = Directory.CreateTempSubdirectory("sandbox-e2e-busy-").FullName;
        try
        {
            using var app = ApplianceProcess.Start(x, sharedDir: shared);

            var recording = await app.GetJsonAsync("/record?mode=start&fps=10");
            var recordingFor = Stopwatch.StartNew();
            Rec.Xdo(x, "type", "busy");

            var kernelId = await Kernels.StartAsync(app);
            var kernel = await Kernels.ConnectAsync(app, kernelId);
            var cell = await kernel.ExecuteRequestAsync(
                "import os, subprocess, time\np = subprocess.Popen(['sleep', '600'])\nprint(os.getpid(), p.pid, flush=True)\ntime.sleep(600)");
            var pids = (await kernel.WaitForAsync(m => ParentId(m) == cell && Type(m) == "stream", TimeSpan.FromSeconds(60)))["content"]!["text"]!
                .GetValue<string>().Split(' ', StringSplitOptions.TrimEntries).Select(int.Parse).ToArray();

            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{app.Port}"), Timeout = TimeSpan.FromSeconds(30) };
            var hold = http.PostAsync("/computer/action", new StringContent("""{"action": "hold_key", "text": "shift", "duration": 30}""", Encoding.UTF8, "application/json"));

            using var viewer = new ClientWebSocket();
            await viewer.ConnectAsync(new Uri($"ws://127.0.0.1:{app.Port}/view/stream"), CancellationToken.None);
            var viewerFrames = 0;
            var viewing = Task.Run(async () =>
            {
                var buffer = new byte[1 << 20];
                try
                {
                    while (true)
                    {
                        var r = await viewer.ReceiveAsync(buffer, CancellationToken.None);
                        if (r.MessageType == WebSocketMessageType.Close) return "closed " + r.CloseStatus;
                        if (r.EndOfMessage) viewerFrames++;
                    }
                }
                catch (WebSocketException e) { return "aborted: " + e.Message; }
            });

            var served = 0;
            var stop = false;
            var shooters = Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
            {
                while (!Volatile.Read(ref stop))
                {
                    try
                    {
                        using var r = await http.GetAsync("/screenshot?response=image");
                        if (r.IsSuccessStatusCode) Interlocked.Increment(ref served);
                        await r.Content.ReadAsByteArrayAsync();
                    }
                    catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException) { }
                }
            })).ToArray();

            // Everything in flight: the key is down, screenshots are being served, the viewer has frames, and the video
            // has run long enough to hold frames (kernels now start from the zygote in ~0.1 s, so this no longer
            // comes for free while the kernel starts).
            Eventually(() => XState.Read(x).Keys.Length > 0 && Volatile.Read(ref served) > 5 && viewerFrames > 0
                             && recordingFor.Elapsed > TimeSpan.FromSeconds(1.5), "everything busy");

            var sw = Stopwatch.StartNew();
            var code = app.Stop(30_000);
            var seconds = sw.Elapsed.TotalSeconds;
            Volatile.Write(ref stop, true);
            await Task.WhenAll(shooters);
            var viewerEnd = await viewing.WaitAsync(TimeSpan.FromSeconds(10));
            var holdAnswer = await AnswerOf(hold);

            var journal = Rec.Journal(Path.Combine(shared, recording.GetProperty("events_file").GetString()!));
            var last = journal[^1];
            var video = Path.Combine(shared, recording.GetProperty("screen_recording_file").GetString()!);
            var duration = double.Parse(Processes.Check("ffprobe", ["-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", video]).Trim(),
                CultureInfo.InvariantCulture);
            var actions = JsonDocument.Parse(File.ReadAllText(Path.Combine(shared, recording.GetProperty("action_recording_file").GetString()!))).RootElement;
            var kernelsLeft = 0;
            foreach (var pid in pids) if (!await Kernels.GoneAsync(pid)) kernelsLeft++;
            var keysHeld = XState.Read(x).Keys.Length;
            var shm = ShmSegment.WaitGone(app.Pid).Count;
            await kernel.DisposeAsync();

            Figures.Report(output, $"shutdown(busy): SIGTERM with a recording, a busy kernel and its child, a held key, a live viewer and 8 " +
                $"screenshot clients ({served} served): exit {code} in {seconds:0.00} s; journal ends '{last.GetProperty("event").GetString()}', " +
                $"video {duration:0.0} s, hold_key answered {holdAnswer}, viewer {viewerEnd}; kernels left {kernelsLeft}, keys held {keysHeld}, shm segments {shm}");
            var tail = "\nthe appliance's last lines:\n" + string.Join("\n", app.Output.Split('\n').TakeLast(30));
            Assert.True(code == 0, $"exit code {code?.ToString(CultureInfo.InvariantCulture) ?? "none (killed)"}" + tail);
            Assert.True(seconds < ExitBoundSeconds, $"exit took {seconds:0.00} s" + tail);
            Assert.Equal("recording_stopped", last.GetProperty("event").GetString());
            Assert.Equal("shutdown", last.GetProperty("reason").GetString());
            Assert.True(duration > 0.3, $"video of {duration} s");
            Assert.Equal("busy", actions[0].GetProperty("text").GetString());
            Assert.StartsWith("closed", viewerEnd);   // a close handshake, not a dropped connection
            Assert.Equal(0, kernelsLeft);
            Assert.Equal(0, keysHeld);
            Assert.Equal(0, shm);
        }
        finally
        {
            Directory.Delete(shared, recursive: true);
        }
    }

    /// <summary>The status of a request cut short by the shutdown, or how its connection ended.</summary>
    private static async Task<string> AnswerOf(Task<HttpResponseMessage> request)
    {
        try
        {
            using var r = await request.WaitAsync(TimeSpan.FromSeconds(10));
            return ((int)r.StatusCode).ToString(CultureInfo.InvariantCulture);
        }
        catch (HttpRequestException) { return "connection closed"; }
    }

    private static void Eventually(Func<bool> condition, string what)
    {
        var sw = Stopwatch.StartNew();
        while (!condition())
        {
            if (sw.Elapsed > TimeSpan.FromSeconds(30)) throw new TimeoutException("waited 30 s for " + what);
            Thread.Sleep(50);
        }
    }
}
