using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Sandbox.E2E.Infrastructure;
using Sandbox.Testing;

namespace Sandbox.E2E.OsWorld;

/// <summary>
/// A desktop as OSWorld's VMs have it: Xvfb, a private session bus with the AT-SPI bus, openbox, and the
/// published appliance with its OSWorld listener on a free port, in a private HOME (files, ~/ expansion,
/// xdg-open's handler, gsettings' dconf). Applications the tests start are killed on dispose, and
/// everything is stopped in reverse order even when the fixture failed half-way.
/// </summary>
public sealed class OsWorldFixture : IDisposable
{
    private readonly DesktopProcesses _processes = new();

    public OsWorldFixture()
    {
        Home = Directory.CreateTempSubdirectory("sandbox-osworld-home-").FullName;
        try
        {
            X = XvfbServer.Start(1280, 800);
            var runtime = Directory.CreateDirectory(Path.Combine(Home, ".runtime")).FullName;
            WriteXdgHandler();
            Env = new Dictionary<string, string?>(X.Env)
            {
                ["HOME"] = Home,
                ["XDG_CONFIG_HOME"] = Path.Combine(Home, ".config"),
                ["XDG_DATA_HOME"] = Path.Combine(Home, ".local", "share"),
                ["XDG_CACHE_HOME"] = Path.Combine(Home, ".cache"),
                ["XDG_CURRENT_DESKTOP"] = null,
                ["DESKTOP_SESSION"] = null,
                ["XDG_RUNTIME_DIR"] = runtime,
                ["DBUS_SESSION_BUS_ADDRESS"] = null,
                ["AT_SPI_BUS_ADDRESS"] = null,
                ["GTK_MODULES"] = "gail:atk-bridge",
                ["NO_AT_BRIDGE"] = null,
                ["GDK_BACKEND"] = "x11",
                ["GTK_THEME"] = "Adwaita",
                ["LANG"] = "C.UTF-8",
                ["LC_ALL"] = "C.UTF-8",
                ["PYTHONPATH"] = Path.Combine(Repo.Root, "tests", "Sandbox.E2E", "OsWorld", "pyshim"),
            };
            // The bus gets the private HOME too: services it activates (dconf for gsettings) write there, not in the real home.
            var bus = Spawn("dbus-daemon", ["--session", "--nofork", "--print-address=1", $"--address=unix:tmpdir={runtime}"], Env, readStdout: false);
            var address = bus.StandardOutput.ReadLineAsync();
            if (!address.Wait(20_000) || string.IsNullOrEmpty(address.Result)) throw new InvalidOperationException("dbus-daemon did not start");
            Env["DBUS_SESSION_BUS_ADDRESS"] = address.Result.Trim();
            Spawn("/usr/libexec/at-spi-bus-launcher", ["--launch-immediately"], Env);
            WaitFor(() => Processes.Run("dbus-send", ["--session", "--print-reply", "--dest=org.a11y.Bus", "/org/a11y/bus", "org.a11y.Bus.GetAddress"], Env, 10_000).Code == 0,
                "the accessibility bus (org.a11y.Bus) to appear");
            Spawn("openbox", [], Env);
            WaitFor(() => Processes.Run("xprop", ["-root", "_NET_SUPPORTING_WM_CHECK"], Env).Stdout.Contains("window id"), "openbox to start");
            Port = Processes.FreeTcpPort();
            App = ApplianceProcess.Start(X, new Dictionary<string, string?>(Env) { ["SANDBOX_OSWORLD_PORT"] = Port.ToString() });
            // OSWorld's harness talks to the VM without a token, as PythonController/SetupController do.
            Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{Port}"), Timeout = TimeSpan.FromSeconds(130) };
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public string Home { get; }
    public XvfbServer X { get; } = null!;
    public Dictionary<string, string?> Env { get; } = null!;
    public int Port { get; }
    public ApplianceProcess App { get; } = null!;
    public HttpClient Http { get; } = null!;

    /// <summary>xdg-open's handler for text files here: an xterm titled with the file's path.</summary>
    private void WriteXdgHandler()
    {
        var apps = Directory.CreateDirectory(Path.Combine(Home, ".local", "share", "applications")).FullName;
        File.WriteAllText(Path.Combine(apps, "osworld-viewer.desktop"),
            "[Desktop Entry]\nType=Application\nName=OSWorld viewer\nExec=xterm -T %f -e sleep 600\nMimeType=text/plain;\n");
        var config = Directory.CreateDirectory(Path.Combine(Home, ".config")).FullName;
        File.WriteAllText(Path.Combine(config, "mimeapps.list"), "[Default Applications]\ntext/plain=osworld-viewer.desktop\n");
    }

    public Process Spawn(string file, IEnumerable<string> args, IDictionary<string, string?> env, bool readStdout = true) =>
        _processes.Spawn(file, args, env, drainStdout: readStdout);

    /// <summary>Starts an application on the desktop (killed on dispose).</summary>
    public Process Launch(string file, params string[] args) => Spawn(file, args, Env);

    /// <summary>The id of the window titled exactly <paramref name="title"/> (no regex characters in it), once it is mapped.</summary>
    public ulong WindowTitled(string title) =>
        ulong.Parse(Xdotool("search", "--sync", "--name", $"^{title}$").Split('\n')[0]);

    public string Xdotool(params string[] args) => Processes.Check("xdotool", args, Env, 60_000).Trim();

    public static void WaitFor(Func<bool> condition, string what, int timeoutMs = 60_000) =>
        DesktopProcesses.WaitFor(condition, what, timeoutMs);

    // ---- requests as OSWorld's controllers send them ----

    /// <summary>A POST with a JSON text body and Content-Type application/json (requests' data=json.dumps(...)).</summary>
    public HttpResponseMessage PostJson(string path, object body, HttpClient? client = null)
    {
        var content = new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return (client ?? Http).PostAsync(path, content).Result;
    }

    /// <summary>A POST with a form body (requests' data={...}).</summary>
    public HttpResponseMessage PostForm(string path, Dictionary<string, string> form) =>
        Http.PostAsync(path, new FormUrlEncodedContent(form)).Result;

    public HttpResponseMessage Post(string path) => Http.PostAsync(path, null).Result;

    public static JsonElement Json(HttpResponseMessage r) => JsonDocument.Parse(r.Content.ReadAsStringAsync().Result).RootElement.Clone();

    public static string Body(HttpResponseMessage r) => r.Content.ReadAsStringAsync().Result;

    public void Dispose()
    {
        Http?.Dispose();
        App?.Dispose();
        _processes.Dispose();
        X?.Dispose();
        try { Directory.Delete(Home, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
