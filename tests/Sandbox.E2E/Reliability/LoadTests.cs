using System.Diagnostics;
using System.Net;
using Sandbox.E2E.Infrastructure;
using Sandbox.Testing;
using Xunit.Abstractions;

namespace Sandbox.E2E.Reliability;

/// <summary>
/// Bounded load on loopback: SANDBOX_LOAD_CLIENTS (default 50) concurrent clients on /screenshot?response=image for SANDBOX_LOAD_SECONDS (default 60),
/// some hanging up right after the headers. No errors, latencies printed, RSS after warm-up (the first third, at most
/// 5 s, under full load) vs at the end: a generous bound that catches a per-request leak, not a timing.
/// </summary>
[Collection("Reliability")]
public sealed class LoadTests(ITestOutputHelper output)
{
    private const double RssGrowthBoundMb = 64;

    [Fact]
    public async Task Concurrent_screenshots_with_clients_hanging_up_have_no_errors_and_no_leak()
    {
        var seconds = int.TryParse(Environment.GetEnvironmentVariable("SANDBOX_LOAD_SECONDS"), out var s) ? s : 60;
        var clients = int.TryParse(Environment.GetEnvironmentVariable("SANDBOX_LOAD_CLIENTS"), out var c) ? c : 50;
        using var x = XvfbServer.Start(1280, 720);
        x.Paint(Repo.Scene("office.png"));
        using var app = ApplianceProcess.Start(x);
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = clients + 4 })
        {
            BaseAddress = new Uri($"http://127.0.0.1:{app.Port}"),
            Timeout = TimeSpan.FromSeconds(60),
        };

        // Warm-up: every client once, so pools, buffers and the X connection exist before the first sample.
        await Task.WhenAll(Enumerable.Range(0, clients).Select(async _ =>
        {
            using var r = await http.GetAsync("/screenshot?response=image");
            r.EnsureSuccessStatusCode();
        }));
        var rssStart = Figures.RssMb(app.Pid);
        double rssWarm = double.NaN;

        var latencies = new List<double>();
        int served = 0, hungUp = 0, errors = 0;
        long bytes = 0;
        var firstErrors = new List<string>();
        var until = Stopwatch.StartNew();
        var deadline = TimeSpan.FromSeconds(seconds);
        // RSS every few seconds: a leak climbs steadily, a warming heap levels off.
        var samples = new List<double>();
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            try
            {
                // Warm-up is the first third (at most 5 s) under the full load: the thread pool, the array pools and
                // the GC heap reach their working size there; growth after it is what a leak would show.
                await Task.Delay(TimeSpan.FromSeconds(Math.Min(5, seconds / 3.0)), sampling.Token);
                rssWarm = Figures.RssMb(app.Pid);
                while (true)
                {
                    await Task.Delay(TimeSpan.FromSeconds(Math.Max(1, seconds / 6.0)), sampling.Token);
                    lock (samples) samples.Add(Figures.RssMb(app.Pid));
                }
            }
            catch (OperationCanceledException) { }
        });
        await Task.WhenAll(Enumerable.Range(0, clients).Select(client => Task.Run(async () =>
        {
            var rnd = new Random(client);
            while (until.Elapsed < deadline)
            {
                var sw = Stopwatch.StartNew();
                // Every fifth client hangs up half the time, right after the headers, mid-body.
                var hangUp = client % 5 == 4 && rnd.Next(2) == 0;
                try
                {
                    using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                    using var r = await http.GetAsync(client % 7 == 6 ? "/screenshot?response=image&format=jpeg&max_width=640" : "/screenshot?response=image",
                        HttpCompletionOption.ResponseHeadersRead, cts.Token);
                    if (r.StatusCode != HttpStatusCode.OK) throw new HttpRequestException($"status {(int)r.StatusCode}");
                    if (hangUp)
                    {
                        await using var stream = await r.Content.ReadAsStreamAsync(cts.Token);
                        var one = new byte[1024];
                        var got = await stream.ReadAsync(one, cts.Token);
                        Assert.True(got > 0);
                        Interlocked.Increment(ref hungUp);
                        continue;  // disposing the response mid-body drops the connection
                    }
                    var body = await r.Content.ReadAsByteArrayAsync(cts.Token);
                    if (body.Length < 1000) throw new HttpRequestException($"short body {body.Length}");
                    Interlocked.Add(ref bytes, body.Length);
                    Interlocked.Increment(ref served);
                    lock (latencies) latencies.Add(sw.Elapsed.TotalMilliseconds);
                }
                catch (Exception e) when (e is HttpRequestException or OperationCanceledException)
                {
                    Interlocked.Increment(ref errors);
                    lock (firstErrors) if (firstErrors.Count < 10) firstErrors.Add(e.Message);
                }
            }
        })));
        var elapsed = until.Elapsed.TotalSeconds;
        var rssEnd = Figures.RssMb(app.Pid);
        await sampling.CancelAsync();
        await sampler;

        // After the storm: the same process still serves a whole screenshot and reports healthy.
        Assert.False(app.HasExited);
        var health = await app.GetJsonAsync("/health");
        Assert.Equal("ok", health.GetProperty("status").GetString());
        using (var after = await app.Http.GetAsync("/screenshot?response=image")) Assert.Equal(HttpStatusCode.OK, after.StatusCode);

        latencies.Sort();
        Figures.Report(output, $"load: {served} screenshots served ({served / elapsed:0.0}/s, {bytes / elapsed / 1e6:0.0} MB/s) to {clients} clients in {elapsed:0.0} s, " +
            $"{hungUp} clients hung up mid-body, {errors} errors; latency p50 {Figures.Ms(Figures.Percentile(latencies, 50))} ms, " +
            $"p99 {Figures.Ms(Figures.Percentile(latencies, 99))} ms; RSS {rssStart:0.0} MB idle, {rssWarm:0.0} MB after warm-up, {rssEnd:0.0} MB at the end ({rssEnd - rssWarm:+0.0;-0.0} MB; " +
            $"samples {string.Join(" ", samples.Select(v => v.ToString("0", System.Globalization.CultureInfo.InvariantCulture)))})");
        Assert.True(errors == 0, $"{errors} errors: {string.Join("; ", firstErrors)}");
        Assert.True(served > 0);
        Assert.False(double.IsNaN(rssWarm), "the load ended before warm-up did");
        Assert.True(rssEnd - rssWarm < RssGrowthBoundMb, $"RSS grew {rssEnd - rssWarm:0.0} MB under load after warm-up");
    }
}
