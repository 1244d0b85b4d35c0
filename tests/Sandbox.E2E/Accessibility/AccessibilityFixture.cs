using System.Diagnostics;
using System.Text.Json;
using Sandbox.E2E.Infrastructure;
using Sandbox.Testing;

namespace Sandbox.E2E.Accessibility;

/// <summary>
/// A desktop with accessibility: Xvfb, a private session bus (dbus-daemon), the AT-SPI bus launcher
/// (which starts the accessibility bus and the registry), gtk3-widget-factory and the test window
/// (a11y_app.py) with GTK's bridge, and one published appliance on that session bus. Disposing stops
/// everything it started, in reverse order, even after a failure half-way.
/// </summary>
public sealed class AccessibilityFixture : IDisposable
{
    private readonly DesktopProcesses _processes = new();
    private readonly string _runtimeDir;

    public AccessibilityFixture()
    {
        _runtimeDir = Directory.CreateTempSubdirectory("sandbox-a11y-").FullName;
        try
        {
            X = XvfbServer.Start(1280, 800);
            var bus = Spawn("dbus-daemon", ["--session", "--nofork", "--print-address=1", $"--address=unix:tmpdir={_runtimeDir}"], new Dictionary<string, string?>(X.Env));
            var address = bus.StandardOutput.ReadLineAsync();
            if (!address.Wait(20_000) || string.IsNullOrEmpty(address.Result)) throw new InvalidOperationException("dbus-daemon did not start");
            Env = new Dictionary<string, string?>(X.Env)
            {
                ["DBUS_SESSION_BUS_ADDRESS"] = address.Result.Trim(),
                ["XDG_RUNTIME_DIR"] = _runtimeDir,
                ["AT_SPI_BUS_ADDRESS"] = null,
                ["GTK_MODULES"] = "gail:atk-bridge",
                ["NO_AT_BRIDGE"] = null,
                ["GDK_BACKEND"] = "x11",
                ["GTK_THEME"] = "Adwaita",
            };
            Spawn("/usr/libexec/at-spi-bus-launcher", ["--launch-immediately"], Env);
            WaitFor(() => Processes.Run("dbus-send", ["--session", "--print-reply", "--dest=org.a11y.Bus", "/org/a11y/bus", "org.a11y.Bus.GetAddress"], Env, 10_000).Code == 0,
                "the accessibility bus (org.a11y.Bus) to appear");
            Factory = Spawn("gtk3-widget-factory", [], Env);
            Probe = Spawn(Repo.SystemPython, [Path.Combine(Repo.Root, "tests", "Sandbox.E2E", "Accessibility", "a11y_app.py"), "A11y Probe"], Env);
            Probe.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_probeOut) _probeOut.Add(e.Data); };
            Probe.BeginOutputReadLine();
            WaitFor(() => ProbeSaid("ready"), "the test window to start");
            App = ApplianceProcess.Start(X, Env);
            // Both applications registered and readable through the appliance.
            WaitFor(() =>
            {
                var r = App.Http.GetAsync("/accessibility/tree?format=text").Result;
                var text = r.Content.ReadAsStringAsync().Result;
                return r.IsSuccessStatusCode && text.Contains("\"gtk3-widget-factory\"") && text.Contains("\"A11y Probe\"") && text.Contains("\"Count\"");
            }, "both applications in the appliance's tree");
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    private readonly List<string> _probeOut = [];

    public XvfbServer X { get; } = null!;
    public Dictionary<string, string?> Env { get; } = null!;
    public Process Factory { get; } = null!;
    public Process Probe { get; } = null!;
    public ApplianceProcess App { get; } = null!;

    public bool ProbeSaid(string line)
    {
        lock (_probeOut) return _probeOut.Contains(line);
    }

    public string ProbeOutput()
    {
        lock (_probeOut) return string.Join("\n", _probeOut);
    }

    public Process Spawn(string file, IEnumerable<string> args, IDictionary<string, string?> env) =>
        _processes.Spawn(file, args, env, drainStdout: false);

    public static void WaitFor(Func<bool> condition, string what, int timeoutMs = 60_000) =>
        DesktopProcesses.WaitFor(condition, what, timeoutMs, pollMs: 200);

    public JsonDocument GetJson(string path)
    {
        var r = App.Http.GetAsync(path).Result;
        var body = r.Content.ReadAsStringAsync().Result;
        if (!r.IsSuccessStatusCode) throw new InvalidOperationException($"GET {path}: {(int)r.StatusCode} {body}");
        return JsonDocument.Parse(body);
    }

    /// <summary>Runs the pyatspi reference walk on the same desktop.</summary>
    public string ReferenceXml(string? app = null)
    {
        var args = new List<string> { Path.Combine(Repo.Root, "tests", "Sandbox.E2E", "Accessibility", "pyatspi_reference.py") };
        if (app is not null) args.AddRange(["--app", app]);
        var env = new Dictionary<string, string?>(Env) { ["GTK_MODULES"] = null };
        return Processes.Check(Repo.SystemPython, args, env, 120_000);
    }

    public void Dispose()
    {
        App?.Dispose();
        _processes.Dispose();
        X?.Dispose();
        try { Directory.Delete(_runtimeDir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
