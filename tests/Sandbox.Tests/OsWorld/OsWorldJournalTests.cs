using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Sandbox.Accessibility;
using Sandbox.Capture;
using Sandbox.Common;
using Sandbox.Desktop;
using Sandbox.Display;
using Sandbox.Files;
using Sandbox.OsWorld;
using Sandbox.Processes;
using Sandbox.Recording;

namespace Sandbox.Tests.OsWorld;

/// <summary>The trajectory hook: steps that act for the agent reach the journal while it is active, and only then.</summary>
public sealed class OsWorldJournalTests : IDisposable
{
    private sealed class FakeJournal : IStepJournal
    {
        public bool Active { get; set; }
        public List<(string Source, string Action, string Result)> Steps { get; } = [];

        public ValueTask AddAsync(string source, string actionJson, string resultJson, CancellationToken cancellationToken)
        {
            Steps.Add((source, actionJson, resultJson));
            return ValueTask.CompletedTask;
        }
    }

    private readonly string _shared = Directory.CreateTempSubdirectory("osworld-journal-").FullName;
    private readonly List<IDisposable> _owned = [];

    private OsWorldAdapter Adapter(IStepJournal journal)
    {
        var options = new Sandbox.Hosting.SandboxOptions { SharedDir = _shared, Display = null };
        XDisplayConnection X(string area) { var c = new XDisplayConnection(null, area, NullLogger.Instance); _owned.Add(c); return c; }
        var capture = new ScreenCapture(X("capture"), false, 100, NullLogger.Instance);
        var desktop = new DesktopService(X("desktop"), options.Desktop);
        var waits = new WaitService(X("wait"), desktop, options.Desktop);
        var processes = new ProcessService(options.Processes, Environment.GetEnvironmentVariables(), NullLogger.Instance);
        var recorder = new Recorder(options, options.Recording, NullLoggerFactory.Instance);
        var accessibility = new AccessibilityService(options.Accessibility, new Dictionary<string, string?>(), null, NullLogger.Instance);
        _owned.AddRange([processes, recorder, accessibility]);
        var adapter = new OsWorldAdapter(options.OsWorld, new ScreenshotService(capture, options, options.Capture, NullLogger<ScreenshotService>.Instance),
            accessibility, processes, new FileService(options.Files), desktop, waits,
            new AppLauncher(desktop, (_, _, _) => Task.FromResult(0), null, options.Desktop), recorder, journal, _shared, NullLogger.Instance);
        _owned.Add(adapter);
        return adapter;
    }

    private static HttpContext Post(string json)
    {
        var http = new DefaultHttpContext();
        http.Request.Method = "POST";
        http.Request.ContentType = "application/json";
        http.Request.Body = new MemoryStream(Encoding.UTF8.GetBytes(json));
        http.Request.ContentLength = http.Request.Body.Length;
        return http;
    }

    [Fact]
    public async Task An_execute_is_journaled_with_its_route_request_and_answer_while_the_journal_is_active()
    {
        var journal = new FakeJournal { Active = true };
        var adapter = Adapter(journal);
        await adapter.ExecuteAsync(Post("""{"command": ["echo", "hi"], "shell": false}"""), "/execute");
        var (source, action, result) = Assert.Single(journal.Steps);
        Assert.Equal("osworld", source);
        var a = JsonDocument.Parse(action).RootElement;
        Assert.Equal("/execute", a.GetProperty("route").GetString());
        Assert.Equal("hi", a.GetProperty("request").GetProperty("command")[1].GetString());
        var r = JsonDocument.Parse(result).RootElement;
        Assert.Equal(("success", "hi\n", 0), (r.GetProperty("status").GetString(), r.GetProperty("output").GetString(), r.GetProperty("returncode").GetInt32()));

        await adapter.RunBashAsync(Post("""{"script": "echo b"}"""));
        Assert.Equal("/run_bash_script", JsonDocument.Parse(journal.Steps[1].Action).RootElement.GetProperty("route").GetString());
    }

    [Fact]
    public async Task Nothing_is_journaled_while_the_journal_is_inactive()
    {
        var journal = new FakeJournal { Active = false };
        await Adapter(journal).ExecuteAsync(Post("""{"command": "true", "shell": true}"""), "/setup/execute");
        Assert.Empty(journal.Steps);
    }

    public void Dispose()
    {
        foreach (var o in Enumerable.Reverse(_owned)) o.Dispose();
        try { Directory.Delete(_shared, recursive: true); } catch (IOException) { }
    }
}
