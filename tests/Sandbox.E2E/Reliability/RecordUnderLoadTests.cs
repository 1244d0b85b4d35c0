using System.Net;
using System.Text;
using System.Text.Json;
using Sandbox.E2E.Infrastructure;
using Sandbox.Testing;
using Xunit.Abstractions;

namespace Sandbox.E2E.Reliability;

/// <summary>Every click injected while screenshot clients hammer the appliance is in the recording: none lost.</summary>
[Collection("Reliability")]
public sealed class RecordUnderLoadTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_recording_under_screenshot_load_loses_no_click()
    {
        const int requests = 10, clicksPerRequest = 50, loaders = 8;
        using var x = XvfbServer.Start(800, 600);
        x.Paint(Repo.Scene("office.png"));
        using var app = ApplianceProcess.Start(x);
        using (var start = await app.Http.GetAsync("/record?mode=start&video=false"))
            Assert.Equal(HttpStatusCode.OK, start.StatusCode);

        using var stopLoad = new CancellationTokenSource();
        var served = 0;
        var load = Enumerable.Range(0, loaders).Select(_ => Task.Run(async () =>
        {
            while (!stopLoad.IsCancellationRequested)
            {
                using var r = await app.Http.GetAsync("/screenshot?response=image");
                Assert.Equal(HttpStatusCode.OK, r.StatusCode);
                await r.Content.ReadAsByteArrayAsync();
                Interlocked.Increment(ref served);
            }
        })).ToArray();

        for (var i = 0; i < requests; i++)
        {
            // Distinct points, so no two clicks could be taken for one double click or a drag.
            var actions = string.Join(",", Enumerable.Range(0, clicksPerRequest).Select(k =>
                $$"""{"action":"left_click","coordinate":[{{10 + k * 15}},{{10 + i * 50}}]}"""));
            using var r = await app.Http.PostAsync("/computer/actions", new StringContent("[" + actions + "]", Encoding.UTF8, "application/json"));
            Assert.True(r.StatusCode == HttpStatusCode.OK, await r.Content.ReadAsStringAsync());
        }
        await stopLoad.CancelAsync();
        await Task.WhenAll(load);

        var stop = await app.GetJsonAsync("/record?mode=stop");
        var file = Path.Combine(app.SharedDir, stop.GetProperty("action_recording_file").GetString()!);
        var records = JsonDocument.Parse(File.ReadAllText(file)).RootElement.EnumerateArray().ToList();
        var presses = records.Count(r => r.GetProperty("event").GetString() == "click" && r.GetProperty("pressed").GetBoolean());
        var releases = records.Count(r => r.GetProperty("event").GetString() == "click" && !r.GetProperty("pressed").GetBoolean());
        const int expected = requests * clicksPerRequest;
        Figures.Report(output, $"record under load: {expected} clicks injected while {served} screenshots were served, " +
            $"{presses} presses and {releases} releases recorded, events lost: {2 * expected - presses - releases}");
        Assert.Equal(expected, presses);
        Assert.Equal(expected, releases);
    }
}
