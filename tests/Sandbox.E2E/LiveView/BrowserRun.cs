using System.Diagnostics;
using System.Text.Json;
using Sandbox.Testing;

namespace Sandbox.E2E.LiveView;

/// <summary>
/// One run of tests/browser/liveview.mjs (headless Debian Chromium through playwright-core) against an
/// appliance. Runs in the background so a test can act on the screen while the page watches; the
/// script's JSON result is read when it exits. Files it writes go to <see cref="OutDir"/>.
/// </summary>
public sealed class BrowserRun : IDisposable
{
    public static string ScriptDir => Path.Combine(Repo.Root, "tests", "browser");
    private readonly Process _process;
    private readonly Task<string> _stdout;
    private readonly Task<string> _stderr;

    private BrowserRun(Process process, string outDir)
    {
        _process = process;
        OutDir = outDir;
        _stdout = process.StandardOutput.ReadToEndAsync();
        _stderr = process.StandardError.ReadToEndAsync();
    }

    public string OutDir { get; }

    public static BrowserRun Start(string baseUrl, params string[] steps)
    {
        if (!Directory.Exists(Path.Combine(ScriptDir, "node_modules", "playwright-core")))
            throw new InvalidOperationException($"playwright-core is not installed: run `npm ci` in {ScriptDir} (./test.sh does)");
        if (!File.Exists("/usr/bin/chromium"))
            throw new InvalidOperationException("Debian's chromium is missing (tools/ensure-packages.sh test installs it)");
        var outDir = Directory.CreateTempSubdirectory("sandbox-browser-").FullName;
        var psi = new ProcessStartInfo("node")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = ScriptDir,
        };
        foreach (var a in new[] { "liveview.mjs", baseUrl, outDir }.Concat(steps)) psi.ArgumentList.Add(a);
        return new BrowserRun(Process.Start(psi) ?? throw new InvalidOperationException("cannot start node"), outDir);
    }

    public static JsonElement Run(string baseUrl, params string[] steps)
    {
        using var run = Start(baseUrl, steps);
        return run.Result();
    }

    /// <summary>Waits for a file the script creates with a <c>mark:NAME</c> step.</summary>
    public void WaitForMark(string name, int timeoutMs = 60_000)
    {
        var sw = Stopwatch.StartNew();
        while (!File.Exists(Path.Combine(OutDir, name)))
        {
            if (_process.HasExited) throw new InvalidOperationException("the browser script ended early: " + _stderr.Result + _stdout.Result);
            if (sw.ElapsedMilliseconds > timeoutMs) throw new TimeoutException($"no mark '{name}' from the browser script");
            Thread.Sleep(20);
        }
    }

    /// <summary>The script's JSON (<c>{"steps": {...}, "console": [...]}</c>) once it exits; steps that failed carry "error".</summary>
    public JsonElement Result(int timeoutMs = 180_000)
    {
        if (!_process.WaitForExit(timeoutMs))
        {
            _process.Kill(entireProcessTree: true);
            throw new TimeoutException("the browser script did not finish: " + _stderr.Result);
        }
        var line = _stdout.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault()
            ?? throw new InvalidOperationException($"the browser script printed nothing (exit {_process.ExitCode}): {_stderr.Result}");
        return JsonDocument.Parse(line).RootElement.Clone();
    }

    /// <summary>A step's result, failing the test with the script's error when the step failed.</summary>
    public static JsonElement Step(JsonElement result, string step)
    {
        Assert.True(result.GetProperty("steps").TryGetProperty(step, out var s), $"step {step} missing: {result}");
        if (s.TryGetProperty("error", out var e)) Assert.Fail($"browser step {step}: {e.GetString()}\nconsole: {result.GetProperty("console")}");
        return s;
    }

    public void Dispose()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.Dispose();
        try { Directory.Delete(OutDir, recursive: true); } catch (IOException) { }
    }
}
