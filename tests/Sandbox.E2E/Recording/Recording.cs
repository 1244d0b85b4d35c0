using System.Text.Json;
using Sandbox.E2E.Infrastructure;
using Sandbox.Testing;

namespace Sandbox.E2E.Recording;

/// <summary>Input injection with xdotool (XTest, independent of our code) and reading what a recording left.</summary>
internal static class Rec
{
    public static void Xdo(XvfbServer x, params string[] args) =>
        Processes.Check("xdotool", args, new Dictionary<string, string?>(x.Env));

    public static Task<JsonElement> Start(ApplianceProcess app, string query = "video=false") =>
        app.GetJsonAsync("/record?mode=start&" + query);

    public static Task<JsonElement> Stop(ApplianceProcess app) => app.GetJsonAsync("/record?mode=stop");

    public static JsonElement Actions(ApplianceProcess app, JsonElement stopAnswer) =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(app.SharedDir, stopAnswer.GetProperty("action_recording_file").GetString()!))).RootElement;

    /// <summary>The journal's lines (every line parsed), from the start or stop answer's events_file.</summary>
    public static List<JsonElement> Journal(ApplianceProcess app, JsonElement answer) =>
        Journal(Path.Combine(app.SharedDir, answer.GetProperty("events_file").GetString()!));

    public static List<JsonElement> Journal(string path)
    {
        // Read while the appliance may still append: share the file.
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();
    }

    public static List<JsonElement> InputEvents(IEnumerable<JsonElement> journal) =>
        journal.Where(e => e.TryGetProperty("seq", out _)).ToList();

    private static readonly JsonSerializerOptions s_relaxed = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>An action without its timestamp, as compact JSON, for field-by-field comparison.</summary>
    public static string Shape(JsonElement action)
    {
        var d = action.EnumerateObject().Where(p => p.Name != "timestamp").ToDictionary(p => p.Name, p => p.Value.Clone());
        return JsonSerializer.Serialize(d, s_relaxed);
    }

    public static void AssertTimestamps(JsonElement actions)
    {
        DateTimeOffset? previous = null;
        foreach (var a in actions.EnumerateArray())
        {
            var s = a.GetProperty("timestamp").GetString()!;
            Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$", s);
            var t = DateTimeOffset.Parse(s, System.Globalization.CultureInfo.InvariantCulture);
            Assert.Equal(TimeSpan.Zero, t.Offset);
            if (previous is { } p) Assert.True(t >= p, $"timestamps run backwards: {p:o} then {t:o}");
            previous = t;
        }
    }

    /// <summary>Waits until <paramref name="condition"/> holds (the journal is written asynchronously to injection).</summary>
    public static void Eventually(Func<bool> condition, string what, int timeoutMs = 10_000)
    {
        var sw = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            if (sw.ElapsedMilliseconds > timeoutMs) throw new TimeoutException("never happened: " + what);
            Thread.Sleep(20);
        }
    }
}

/// <summary>One Xvfb (1280×800) and one published appliance on it, shared by a test class.</summary>
public sealed class RecordingFixture : IDisposable
{
    public RecordingFixture()
    {
        X = XvfbServer.Start(1280, 800);
        try { App = ApplianceProcess.Start(X); }
        catch
        {
            X.Dispose();   // xunit never disposes a fixture whose constructor threw
            throw;
        }
    }

    public XvfbServer X { get; }
    public ApplianceProcess App { get; }

    public void Dispose()
    {
        App.Dispose();
        X.Dispose();
    }
}
