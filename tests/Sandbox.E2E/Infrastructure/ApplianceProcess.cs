using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Sandbox.Testing;

namespace Sandbox.E2E.Infrastructure;

/// <summary>
/// The published AOT binary, started as a VM would start it: its own ports, its own SHARED_DIR,
/// a DISPLAY when given. Disposing kills it (SIGTERM first, then SIGKILL) and removes SHARED_DIR.
/// </summary>
public sealed class ApplianceProcess : IDisposable
{
    private readonly Processes.OutputLog _log = new();
    private readonly bool _ownsSharedDir;
    private Process? _process;

    private ApplianceProcess(Dictionary<string, string?> env, string sharedDir, int port, int gatewayPort, bool ownsSharedDir = true)
    {
        _ownsSharedDir = ownsSharedDir;
        Env = env;
        SharedDir = sharedDir;
        Port = port;
        GatewayPort = gatewayPort;
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(60) };
    }

    public Dictionary<string, string?> Env { get; }
    public string SharedDir { get; }
    public int Port { get; }
    public int GatewayPort { get; }
    public HttpClient Http { get; }
    public int Pid => _process?.Id ?? -1;
    public string Output => _log.ToString();
    public bool HasExited => _process?.HasExited ?? true;

    /// <summary>Starts the binary and waits until /health answers.</summary>
    /// <param name="sharedDir">An existing SHARED_DIR to reuse (it is then not deleted); a fresh one by default.</param>
    public static ApplianceProcess Start(XvfbServer? display, IDictionary<string, string?>? extraEnv = null, string? sharedDir = null)
    {
        var binary = Repo.Binary;
        if (!File.Exists(binary))
            throw new FileNotFoundException($"the published binary is missing: run ./build-aot.sh first ({binary})");
        var shared = sharedDir ?? Directory.CreateTempSubdirectory("sandbox-e2e-").FullName;
        int port = Processes.FreeTcpPort(), gatewayPort = Processes.FreeTcpPort();
        var env = new Dictionary<string, string?>
        {
            ["HOST"] = "127.0.0.1",
            ["PORT"] = port.ToString(),
            ["SHARED_DIR"] = shared,
            ["JUPYTER_KERNEL_GATEWAY_APP_HOST"] = "127.0.0.1",
            ["JUPYTER_KERNEL_GATEWAY_APP_PORT"] = gatewayPort.ToString(),
            ["KG_PRESPAWN_COUNT"] = "0",
            ["DISPLAY"] = display?.Display,
            ["XAUTHORITY"] = null,
        };
        if (extraEnv is not null)
            foreach (var (k, v) in extraEnv) env[k] = v;
        var a = new ApplianceProcess(env, shared, port, gatewayPort, ownsSharedDir: sharedDir is null);
        try { a.Launch(); }
        catch
        {
            a.Dispose();   // a binary that never became healthy is stopped, and its SHARED_DIR removed
            throw;
        }
        return a;
    }

    private void Launch()
    {
        var psi = new ProcessStartInfo(Repo.Binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = SharedDir,
        };
        foreach (var (k, v) in Env)
            if (v is null) psi.Environment.Remove(k); else psi.Environment[k] = v;
        _process = Process.Start(psi)!;
        _process.OutputDataReceived += (_, e) => _log.Add(e.Data);
        _process.ErrorDataReceived += (_, e) => _log.Add(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        WaitHealthy();
    }

    public void WaitHealthy(int timeoutMs = 30_000)
    {
        var sw = Stopwatch.StartNew();
        while (sw.ElapsedMilliseconds < timeoutMs)
        {
            if (_process!.HasExited)
            {
                _process.WaitForExit(); // the output read to its end: a quick exit's message is not lost
                throw new InvalidOperationException($"the appliance exited with {_process.ExitCode}:\n{Output}");
            }
            try
            {
                using var r = Http.GetAsync("/health").Result;
                if (r.IsSuccessStatusCode) return;
            }
            catch (AggregateException) { }
            Thread.Sleep(20);
        }
        throw new TimeoutException("the appliance did not answer /health:\n" + Output);
    }

    public async Task<JsonElement> GetJsonAsync(string path)
    {
        using var r = await Http.GetAsync(path);
        var body = await r.Content.ReadAsStringAsync();
        if (!r.IsSuccessStatusCode) throw new HttpRequestException($"GET {path} → {(int)r.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    /// <summary>Sends SIGTERM and waits; returns the exit code, or null if it had to be killed.</summary>
    public int? Stop(int timeoutMs = 10_000)
    {
        if (_process is null || _process.HasExited) return _process?.ExitCode;
        Processes.Run("kill", ["-TERM", _process.Id.ToString()]);
        if (_process.WaitForExit(timeoutMs)) return _process.ExitCode;
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit(5_000);
        return null;
    }

    /// <summary>SIGKILL, as a crash or an OOM kill would end it.</summary>
    public void Kill()
    {
        if (_process is null || _process.HasExited) return;
        _process.Kill();
        _process.WaitForExit(10_000);
    }

    public void Dispose()
    {
        Stop();
        _process?.Dispose();
        Http.Dispose();
        if (!_ownsSharedDir) return;
        try { Directory.Delete(SharedDir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
