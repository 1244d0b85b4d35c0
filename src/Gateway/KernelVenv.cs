using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Sandbox.Common;

namespace Sandbox.Gateway;

/// <summary>Where the kernel venv stands.</summary>
internal enum VenvState
{
    /// <summary>No venv configured (SANDBOX_KERNEL_VENV unset).</summary>
    NotConfigured,
    Checking,
    /// <summary>Being created with uv (first boot only).</summary>
    Creating,
    Ready,
    /// <summary>Configured but absent and uv is not on PATH: the system kernelspecs serve.</summary>
    Unavailable,
    Failed,
}

/// <summary>
/// The kernel venv (SANDBOX_KERNEL_VENV). The old suite built a uv venv at every boot; here it is made
/// once — <c>uv venv --seed</c>, then ipykernel and SANDBOX_KERNEL_PACKAGES — and reused on every later
/// boot at no cost. Its kernelspec lives in the venv's <c>share/jupyter/kernels</c>, which the catalog
/// searches before the system dirs, and kernels from it get VIRTUAL_ENV and its bin on PATH, so
/// <c>!uv pip install</c> and <c>%pip install</c> in a cell land in the kernel's own environment.
/// A venv made another way (<c>python3 -m venv --system-site-packages</c>) is used as it is: when it can
/// import ipykernel but has no kernelspec, one is written for it.
/// </summary>
internal sealed class KernelVenv(GatewayOptions options, ILogger log)
{
    private readonly object _lock = new();
    private Task? _setup;
    private volatile VenvState _state = options.VenvPath is null ? VenvState.NotConfigured : VenvState.Checking;
    private volatile string? _error;

    public VenvState State => _state;

    /// <summary>The venv root once it can serve kernels; null otherwise.</summary>
    public string? ReadyRoot => _state == VenvState.Ready ? options.VenvPath : null;

    public string Python => Path.Combine(options.VenvPath!, "bin", "python");
    public string SpecDir => Path.Combine(options.VenvPath!, "share", "jupyter", "kernels", "python3");

    public string? Describe() => options.VenvPath is null ? null : $"{options.VenvPath} ({_state.ToString().ToLowerInvariant()}{(_error is null ? "" : ": " + _error)})";

    public void StartInBackground() => EnsureAsync();

    /// <summary>Completes when the venv is usable or known not to be; kernel launches await it.</summary>
    public Task EnsureAsync()
    {
        if (options.VenvPath is null) return Task.CompletedTask;
        lock (_lock) return _setup ??= Task.Run(SetupAsync);
    }

    private async Task SetupAsync()
    {
        try
        {
            var uv = options.UvPath ?? Lookup.Executable("uv");
            if (File.Exists(Path.Combine(SpecDir, "kernel.json")) && File.Exists(Python))
            {
                _state = VenvState.Ready;
                log.LogInformation("kernel venv {Venv} ready", options.VenvPath);
                return;
            }
            if (!File.Exists(Python))
            {
                if (uv is null)
                {
                    _state = VenvState.Unavailable;
                    log.LogWarning("kernel venv {Venv} does not exist and uv is not on PATH; using the system kernelspecs", options.VenvPath);
                    return;
                }
                _state = VenvState.Creating;
                await RunAsync(uv, ["venv", "--seed", options.VenvPath!]).ConfigureAwait(false);
            }
            if (!await CanImportIpykernelAsync().ConfigureAwait(false))
            {
                if (uv is null) throw new InvalidOperationException($"{Python} cannot import ipykernel and uv is not on PATH");
                _state = VenvState.Creating;
                await RunAsync(uv, ["pip", "install", "--python", Python, "ipykernel", .. options.VenvPackages]).ConfigureAwait(false);
            }
            else if (uv is not null && options.VenvPackages.Count > 0)
            {
                await RunAsync(uv, ["pip", "install", "--python", Python, .. options.VenvPackages]).ConfigureAwait(false);
            }
            WriteSpec();
            _state = VenvState.Ready;
            log.LogInformation("kernel venv {Venv} ready", options.VenvPath);
        }
        catch (Exception e)
        {
            _error = e.Message;
            _state = VenvState.Failed;
            log.LogError("kernel venv {Venv} failed: {Error}; using the system kernelspecs", options.VenvPath, e.Message);
        }
    }

    private async Task<bool> CanImportIpykernelAsync()
    {
        try
        {
            await RunAsync(Python, ["-c", "import ipykernel"], quiet: true).ConfigureAwait(false);
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    private void WriteSpec()
    {
        Directory.CreateDirectory(SpecDir);
        var spec = new KernelSpecFile(
            [Python, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "Python 3 (kernel venv)", "python", null, null,
            JsonDocument.Parse("{\"debugger\":true}").RootElement.Clone());
        File.WriteAllText(Path.Combine(SpecDir, "kernel.json"), JsonSerializer.Serialize(spec, KernelSpecFileJson.Default.KernelSpecFile));
    }

    private async Task RunAsync(string file, string[] args, bool quiet = false)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment.Remove("KG_AUTH_TOKEN");
        psi.Environment.Remove("SANDBOX_TOKEN");
        if (!quiet) log.LogInformation("running {File} {Args}", file, string.Join(' ', args));
        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {file}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(options.VenvCreateTimeoutSeconds));
        try
        {
            await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} timed out");
        }
        var output = (await stdout.ConfigureAwait(false)) + (await stderr.ConfigureAwait(false));
        if (!quiet && output.Length > 0) log.LogInformation("{Output}", output.TrimEnd());
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{Path.GetFileName(file)} {string.Join(' ', args)} exited with {process.ExitCode}: {Last(output)}");
    }

    private static string Last(string output)
    {
        var lines = output.TrimEnd().Split('\n');
        return lines.Length == 0 ? "" : lines[^1];
    }
}
