using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Sandbox.E2E.Infrastructure;
using Sandbox.Testing;
using Xunit.Abstractions;
using static Sandbox.Testing.JupyterWsClient;

namespace Sandbox.E2E.Reliability;

/// <summary>
/// Bounded load on the gateway of the published binary, with real ipykernel processes: many kernels and
/// connections at once, a long stream of executes on one connection, and a flood of output. Sizes come
/// from SANDBOX_LOAD_KERNELS (20), SANDBOX_LOAD_EXECUTES (10,000) and SANDBOX_LOAD_OUTPUT_MB (100).
/// Memory bounds are generous: they catch a per-message leak or unbounded buffering, not a timing.
/// </summary>
[Collection("Reliability")]
public sealed class KernelLoadTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Patience = Kernels.Patience;
    private const double RssGrowthBoundMb = 32;

    private static int Setting(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), out var v) && v > 0 ? v : fallback;

    [Fact]
    public async Task Twenty_kernels_with_three_connections_each_execute_concurrently_and_lose_nothing()
    {
        var kernels = Setting("SANDBOX_LOAD_KERNELS", 20);
        const int connections = 3, cells = 4;
        using var app = ApplianceProcess.Start(null);
        var started = Stopwatch.StartNew();
        // Started a few at a time, as agents' VMs do: 20 Python start-ups at once on 2 cores only measure the CPU.
        var ids = new List<string>();
        using (var limit = new SemaphoreSlim(4))
            ids.AddRange(await Task.WhenAll(Enumerable.Range(0, kernels).Select(async _ =>
            {
                await limit.WaitAsync();
                try { return await Kernels.StartAsync(app); }
                finally { limit.Release(); }
            })));
        var startSeconds = started.Elapsed.TotalSeconds;
        var pids = (await app.GetJsonAsync("/health")).GetProperty("gateway").GetProperty("kernel_list")
            .EnumerateArray().Where(k => ids.Contains(k.GetProperty("id").GetString()!)).Select(k => k.GetProperty("pid").GetInt32()).ToList();
        Assert.Equal(kernels, pids.Distinct().Count());

        var clients = new List<(int Kernel, int Conn, JupyterWsClient Client)>();
        for (var k = 0; k < kernels; k++)
            for (var c = 0; c < connections; c++)
                clients.Add((k, c, await Kernels.ConnectAsync(app, ids[k])));

        // Every connection runs its cells while all the others run theirs; each cell prints a line naming
        // itself, which the kernel broadcasts to all three connections of its kernel.
        var latencies = new List<double>();
        var sent = new Dictionary<string, string>();   // msg_id -> the line it prints
        var timer = Stopwatch.StartNew();
        await Task.WhenAll(clients.Select(async x =>
        {
            for (var i = 0; i < cells; i++)
            {
                var line = $"k{x.Kernel} c{x.Conn} i{i}";
                var sw = Stopwatch.StartNew();
                var id = await x.Client.ExecuteRequestAsync($"print('{line}')");
                lock (sent) sent[id] = line;
                var reply = await x.Client.CollectReplyAsync(id, Patience);
                lock (latencies) latencies.Add(sw.Elapsed.TotalMilliseconds);
                Assert.Equal("ok", reply.Single(m => Type(m) == "execute_reply")["content"]!["status"]!.GetValue<string>());
                Assert.Equal(line + "\n", StreamText(reply));
            }
        }));
        var executeSeconds = timer.Elapsed.TotalSeconds;

        // Each connection also saw the other two connections' output: wait for their idle statuses.
        var lost = 0;
        foreach (var group in clients.GroupBy(x => x.Kernel))
        {
            var expected = sent.Where(s => s.Value.StartsWith($"k{group.Key} ", StringComparison.Ordinal)).ToList();
            foreach (var (_, _, client) in group)
            {
                foreach (var (id, line) in expected)
                {
                    if (!client.Seen.Any(m => ParentId(m) == id && Type(m) == "status" && ExecutionState(m) == "idle"))
                    {
                        try { await client.WaitForAsync(m => ParentId(m) == id && Type(m) == "status" && ExecutionState(m) == "idle", TimeSpan.FromSeconds(30)); }
                        catch (TimeoutException) { }
                    }
                    if (StreamText(client.Seen.Where(m => ParentId(m) == id)) != line + "\n") lost++;
                }
            }
        }
        foreach (var x in clients) await x.Client.DisposeAsync();
        var rss = Figures.RssMb(app.Pid);
        foreach (var id in ids) await Kernels.DeleteAsync(app, id);

        latencies.Sort();
        var executes = kernels * connections * cells;
        Figures.Report(output, $"kernels: {kernels} kernels requested in {startSeconds:0.0} s, {kernels * connections} WebSocket connections, " +
            $"{executes} concurrent executes in {executeSeconds:0.0} s (p50 {Figures.Ms(Figures.Percentile(latencies, 50))} ms, " +
            $"p99 {Figures.Ms(Figures.Percentile(latencies, 99))} ms), {executes * connections} broadcast outputs, lost: {lost}; RSS {rss:0.0} MB");
        Assert.Equal(0, lost);
        foreach (var pid in pids) Assert.True(await Kernels.GoneAsync(pid), $"kernel {pid} outlived its DELETE");
    }

    [Fact]
    public async Task Ten_thousand_small_executes_on_one_connection_all_answer_in_order()
    {
        var total = Setting("SANDBOX_LOAD_EXECUTES", 10_000);
        const int window = 32;   // requests in flight, as a client that pipelines
        using var app = ApplianceProcess.Start(null);
        var id = await Kernels.StartAsync(app);
        await using var client = await Kernels.ConnectAsync(app, id);
        await client.ExecuteAsync("n = 0", timeout: Patience);
        client.Seen.Clear();

        var order = new List<string>(total);
        var replies = new Dictionary<string, int>();   // msg_id -> execution_count
        var printed = new System.Text.StringBuilder();
        double rssWarm = double.NaN;
        var timer = Stopwatch.StartNew();
        var next = 0;
        while (replies.Count < total)
        {
            while (next < total && next - replies.Count < window)
            {
                order.Add(await client.ExecuteRequestAsync($"n += 1; print(n)"));
                next++;
            }
            var m = await client.ReceiveAsync(Patience) ?? throw new IOException("the gateway closed the connection");
            switch (Type(m))
            {
                case "execute_reply":
                    Assert.Equal("ok", m["content"]!["status"]!.GetValue<string>());
                    replies[ParentId(m)!] = m["content"]!["execution_count"]!.GetValue<int>();
                    if (replies.Count == Math.Min(1000, total)) rssWarm = Figures.RssMb(app.Pid);
                    break;
                case "stream":
                    printed.Append(m["content"]!["text"]!.GetValue<string>());
                    break;
            }
            client.Seen.Clear();   // 10,000 × 4 messages: keep only what this loop needs
        }
        var seconds = timer.Elapsed.TotalSeconds;
        var rssEnd = Figures.RssMb(app.Pid);

        // Replies came back in the order sent, with consecutive execution counts, and every print arrived.
        var counts = order.Select(o => replies[o]).ToList();
        var outOfOrder = counts.Zip(counts.Skip(1)).Count(p => p.Second != p.First + 1);
        var lines = printed.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var missing = total - lines.Select((l, i) => l == (i + 1).ToString(CultureInfo.InvariantCulture)).Count(ok => ok);
        Figures.Report(output, $"executes: {total} on one connection ({window} in flight) in {seconds:0.0} s " +
            $"({total / seconds:0} /s), replies out of order: {outOfOrder}, outputs lost: {missing}; " +
            $"RSS {rssWarm:0.0} MB after 1000, {rssEnd:0.0} MB at the end");
        Assert.Equal(0, outOfOrder);
        Assert.Equal(0, missing);
        Assert.True(rssEnd - rssWarm < RssGrowthBoundMb, $"RSS grew from {rssWarm:0.0} to {rssEnd:0.0} MB over {total} executes");
    }

    [Fact]
    public async Task A_cell_printing_100_MB_is_rate_limited_and_memory_stays_flat()
    {
        var megabytes = Setting("SANDBOX_LOAD_OUTPUT_MB", 100);
        using var app = ApplianceProcess.Start(null);
        var id = await Kernels.StartAsync(app);
        await using var client = await Kernels.ConnectAsync(app, id);
        await client.ExecuteAsync("chunk = 'x' * 1023 + '\\n'", timeout: Patience);
        var rssBefore = Figures.RssMb(app.Pid);

        var rssMax = rssBefore;
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                rssMax = Math.Max(rssMax, Figures.RssMb(app.Pid));
                try { await Task.Delay(100, sampling.Token); } catch (OperationCanceledException) { }
            }
        });
        var timer = Stopwatch.StartNew();
        var msgId = await client.ExecuteRequestAsync($"import sys\nfor _ in range({megabytes} * 1024): sys.stdout.write(chunk)\nprint('done')");
        long received = 0;
        var notices = 0;
        string? status = null;
        var idle = false;
        while (status is null || !idle)
        {
            var m = await client.ReceiveAsync(TimeSpan.FromSeconds(300)) ?? throw new IOException("the gateway closed the connection");
            if (ParentId(m) != msgId) continue;
            switch (Type(m))
            {
                case "stream" when m["content"]!["name"]!.GetValue<string>() == "stderr":
                    if (m["content"]!["text"]!.GetValue<string>().Contains("rate exceeded", StringComparison.Ordinal)) notices++;
                    break;
                case "stream":
                    received += m["content"]!["text"]!.GetValue<string>().Length;
                    break;
                case "execute_reply":
                    status = m["content"]!["status"]!.GetValue<string>();
                    break;
                case "status":
                    idle = ExecutionState(m) == "idle";
                    break;
            }
            client.Seen.Clear();
        }
        var seconds = timer.Elapsed.TotalSeconds;
        await sampling.CancelAsync();
        await sampler;
        // The kernel is still usable, and output flows again once it went idle.
        var after = StreamText(await client.ExecuteAsync("print('after')", timeout: Patience));
        // ipykernel sends a tight loop's output as one message of its whole size, which the gateway must
        // receive before it can drop it: the peak is about twice that, and it must be given back after.
        var settle = Stopwatch.StartNew();
        var rssAfter = Figures.RssMb(app.Pid);
        while (rssAfter - rssBefore >= RssGrowthBoundMb && settle.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(200);
            rssAfter = Figures.RssMb(app.Pid);
        }

        Figures.Report(output, $"output flood: {megabytes} MB printed in {seconds:0.0} s, {received / 1e6:0.0} MB forwarded, " +
            $"{notices} rate notice(s); RSS {rssBefore:0.0} MB before, at most {rssMax:0.0} MB during, {rssAfter:0.0} MB after " +
            $"({settle.Elapsed.TotalSeconds:0.0} s later)");
        Assert.Equal("ok", status);
        Assert.True(notices >= 1, "no 'IOPub data rate exceeded' notice");
        Assert.True(received < megabytes * 1_048_576L / 4, $"{received} bytes forwarded of {megabytes} MB: not rate-limited");
        Assert.True(rssAfter - rssBefore < RssGrowthBoundMb, $"RSS grew from {rssBefore:0.0} to {rssAfter:0.0} MB after {megabytes} MB passed through");
        Assert.Equal("after\n", after);
    }

    [Fact]
    public async Task A_SIGKILLed_kernel_is_restarted_and_its_connections_carry_on()
    {
        using var app = ApplianceProcess.Start(null);
        var id = await Kernels.StartAsync(app);
        await using var a = await Kernels.ConnectAsync(app, id);
        await using var b = await Kernels.ConnectAsync(app, id);
        var pid = int.Parse(StreamText(await a.ExecuteAsync("import os; print(os.getpid())", timeout: Patience)).Trim(), CultureInfo.InvariantCulture);
        Processes.Check("kill", ["-KILL", pid.ToString(CultureInfo.InvariantCulture)]);
        await a.WaitForAsync(m => Type(m) == "status" && ExecutionState(m) == "restarting", Patience);
        await b.WaitForAsync(m => Type(m) == "status" && ExecutionState(m) == "restarting", Patience);
        // Both connections carry on with the new process; the kernel keeps its id.
        var again = StreamText(await a.ExecuteAsync("import os; print(os.getpid())", timeout: Patience)).Trim();
        var fromB = StreamText(await b.ExecuteAsync("print('b')", timeout: Patience));
        using var http = new HttpClient { Timeout = Patience };
        var model = JsonNode.Parse(await http.GetStringAsync($"http://127.0.0.1:{app.GatewayPort}/api/kernels/{id}"))!;
        Figures.Report(output, $"faults(kernel SIGKILL): kernel pid {pid} SIGKILLed: both connections saw 'restarting', " +
            $"the same id answers from pid {again}, connections lost: 0");
        Assert.NotEqual(pid.ToString(CultureInfo.InvariantCulture), again);
        Assert.Equal("b\n", fromB);
        Assert.Equal(id, model["id"]!.GetValue<string>());
        Assert.True(await Kernels.GoneAsync(pid));
    }
}
