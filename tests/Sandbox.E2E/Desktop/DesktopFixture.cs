using System.Diagnostics;
using System.Text.Json;
using Sandbox.E2E.Infrastructure;
using Sandbox.Testing;

namespace Sandbox.E2E.Desktop;

/// <summary>
/// Xvfb, optionally a real window manager (openbox), the published appliance, and the applications a
/// test starts (killed on dispose, even when the fixture failed half-way).
/// </summary>
public abstract class DesktopFixtureBase : IDisposable
{
    private readonly List<Process> _apps = [];
    private Process? _wm;

    protected DesktopFixtureBase(bool windowManager)
    {
        X = XvfbServer.Start(1280, 800);
        try
        {
            if (windowManager)
            {
                _wm = Launch("openbox", []);
                // openbox is ready when it publishes its check window.
                WaitUntil(() => Processes.Run("xprop", ["-root", "_NET_SUPPORTING_WM_CHECK"], Env).Stdout.Contains("window id"), "openbox to start");
            }
            App = ApplianceProcess.Start(X);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public XvfbServer X { get; }
    public ApplianceProcess App { get; private set; } = null!;
    public Dictionary<string, string?> Env => new(X.Env) { ["LANG"] = "C.UTF-8", ["LC_ALL"] = "C.UTF-8" };

    public Process Launch(string file, IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (k, v) in Env)
            if (v is null) psi.Environment.Remove(k); else psi.Environment[k] = v;
        var p = Process.Start(psi)!;
        p.OutputDataReceived += (_, _) => { };
        p.ErrorDataReceived += (_, _) => { };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        lock (_apps) _apps.Add(p);
        return p;
    }

    /// <summary>Starts an xterm titled <paramref name="title"/> and returns its window id once mapped (as xdotool finds it).</summary>
    public (Process Process, ulong Window) Xterm(string title)
    {
        var p = Launch("xterm", ["-T", title, "-geometry", "60x15"]);
        var id = Processes.Check("xdotool", ["search", "--sync", "--onlyvisible", "--name", "^" + title + "$"], Env, timeoutMs: 60_000)
            .Split('\n', StringSplitOptions.RemoveEmptyEntries)[0];
        return (p, ulong.Parse(id));
    }

    public string Xprop(ulong window, string property) =>
        Processes.Check("xprop", ["-id", window.ToString(), property], Env);

    public string RootProp(string property) => Processes.Check("xprop", ["-root", property], Env);

    public async Task<JsonElement> Windows() => await App.GetJsonAsync("/windows");

    public static void WaitUntil(Func<bool> condition, string what, int timeoutMs = 30_000)
    {
        var sw = Stopwatch.StartNew();
        while (!condition())
        {
            if (sw.ElapsedMilliseconds > timeoutMs) throw new TimeoutException("waited in vain for " + what);
            Thread.Sleep(50);
        }
    }

    public void Dispose()
    {
        App?.Dispose();
        lock (_apps)
            foreach (var p in _apps)
            {
                try { if (!p.HasExited) p.Kill(entireProcessTree: true); p.WaitForExit(5000); } catch (InvalidOperationException) { }
                p.Dispose();
            }
        try { if (_wm is { HasExited: false }) _wm.Kill(); } catch (InvalidOperationException) { }
        X.Dispose();
        GC.SuppressFinalize(this);
    }
}

public sealed class OpenboxFixture() : DesktopFixtureBase(windowManager: true);

public sealed class NoWindowManagerFixture() : DesktopFixtureBase(windowManager: false);
