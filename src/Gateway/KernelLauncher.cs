using Sandbox.Common;
using System.Collections;
using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Sandbox.Native;

namespace Sandbox.Gateway;

/// <summary>
/// Turns a kernelspec into a process start: argv with <c>{connection_file}</c> filled in and argv[0]
/// resolved on the kernel's PATH (jupyter_client's rules), the environment Kernel Gateway would give
/// (plus DISPLAY/XAUTHORITY and the kernel venv), and the parent-death wrapper. Also owns the pid files
/// that let a restarted appliance kill what a crashed one left behind.
/// </summary>
internal sealed partial class KernelLauncher
{
    /// <summary>Never handed to a kernel: code in a cell must not learn the gateway's or the REST API's token.</summary>
    private static readonly string[] Secrets = ["KG_AUTH_TOKEN", "SANDBOX_TOKEN"];

    private readonly GatewayOptions _options;
    private readonly IReadOnlyDictionary<string, string> _appEnv;
    private readonly ILogger _log;
    private readonly string? _setpriv;

    public KernelLauncher(GatewayOptions options, IDictionary appEnv, ILogger log)
    {
        _options = options;
        _log = log;
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry e in appEnv)
            if (e.Key is string k && e.Value is string v) env[k] = v;
        _appEnv = env;
        if (options.KernelDeathSignal)
            _setpriv = new[] { "/usr/bin/setpriv", "/bin/setpriv" }.FirstOrDefault(File.Exists);
    }

    public string RuntimeDir => _options.RuntimeDir;

    public string ConnectionFile(string kernelId) => Path.Combine(RuntimeDir, $"kernel-{kernelId}.json");
    private string PidFile(string kernelId) => Path.Combine(RuntimeDir, $"kernel-{kernelId}.pid");

    public void EnsureRuntimeDir()
    {
        if (!OperatingSystem.IsLinux()) throw new PlatformNotSupportedException();
        Directory.CreateDirectory(RuntimeDir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    public ChildStart Build(KernelSpec spec, string connectionFile, IReadOnlyDictionary<string, string>? requestEnv, string? cwd)
    {
        var env = BuildEnv(spec, connectionFile, requestEnv);
        var argv = spec.Argv.Select(a => Substitute(a, spec, connectionFile)).ToList();
        var program = Lookup.Executable(argv[0], env.GetValueOrDefault("PATH"))
            ?? throw new SpawnException($"kernel {spec.Name}: cannot find {argv[0]} on PATH");
        argv[0] = program;
        if (_setpriv is not null)
        {
            // setpriv sets PR_SET_PDEATHSIG on itself and execs the kernel, which keeps it: SIGKILL
            // reaches the kernel the moment the appliance dies, however it dies.
            argv.InsertRange(0, [_setpriv, "--pdeathsig", "KILL"]);
            program = _setpriv;
        }
        return new ChildStart(program, argv, env, cwd ?? _options.KernelCwd, _options.LogPath);
    }

    internal Dictionary<string, string> BuildEnv(KernelSpec spec, string connectionFile, IReadOnlyDictionary<string, string>? requestEnv)
    {
        Dictionary<string, string> env;
        if (requestEnv is null)
        {
            env = new Dictionary<string, string>(_appEnv, StringComparer.Ordinal);
        }
        else
        {
            // Kernel Gateway: a request that brings env gets PATH plus its KERNEL_* and whitelisted names,
            // not the gateway's whole environment. DISPLAY and XAUTHORITY are kept: the kernels exist to drive the screen.
            env = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var name in (string[])["PATH", "DISPLAY", "XAUTHORITY"])
                if (_appEnv.TryGetValue(name, out var v)) env[name] = v;
            foreach (var (k, v) in requestEnv)
                if (k.StartsWith("KERNEL_", StringComparison.Ordinal) || _options.EnvWhitelist.Contains(k))
                    env[k] = v;
        }
        // Variables pushed by POST /init after start (a claimed warm sandbox's per-session settings).
        foreach (var (k, v) in Sandbox.Common.InitEnvironment.Snapshot()) env[k] = v;
        foreach (var (k, v) in spec.Env) env[k] = Substitute(v, spec, connectionFile);
        if (spec.VenvRoot is { } venv)
        {
            env["VIRTUAL_ENV"] = venv;
            env["PATH"] = Path.Combine(venv, "bin") + (env.TryGetValue("PATH", out var p) && p.Length > 0 ? ":" + p : "");
            env.Remove("PYTHONHOME");
        }
        env["KERNEL_GATEWAY"] = "1";
        // ipykernel's ParentPollerUnix exits when re-parented to init: a second line of defence.
        env["JPY_PARENT_PID"] = Libc.getpid().ToString(CultureInfo.InvariantCulture);
        foreach (var secret in Secrets) env.Remove(secret);
        return env;
    }

    [GeneratedRegex(@"\{([A-Za-z0-9_]+)\}")]
    private static partial Regex TemplateField();

    private static string Substitute(string value, KernelSpec spec, string connectionFile) =>
        TemplateField().Replace(value, m => m.Groups[1].Value switch
        {
            "connection_file" => connectionFile,
            "resource_dir" => spec.ResourceDir,
            "prefix" => spec.VenvRoot ?? "/usr",
            _ => m.Value,
        });

    /// <summary>execvp's rule: a name without '/' is looked up on PATH.</summary>
    /// <summary>Records a kernel's pid with its start time, so a later appliance can tell it from a reused pid.</summary>
    public void WritePidFile(string kernelId, int pid)
    {
        try
        {
            File.WriteAllText(PidFile(kernelId), $"{pid} {StartTime(pid)}\n");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _log.LogWarning("cannot write pid file for kernel {Kernel}: {Error}", kernelId, e.Message);
        }
    }

    public void RemoveFiles(string kernelId)
    {
        TryDelete(PidFile(kernelId));
        TryDelete(ConnectionFile(kernelId));
    }

    /// <summary>
    /// Kills the process groups of kernels recorded by an appliance that died without cleaning up
    /// (SIGKILL, power loss with a persistent SHARED_DIR) and removes their files. Returns how many were killed.
    /// </summary>
    public int KillLeftovers()
    {
        if (!Directory.Exists(RuntimeDir)) return 0;
        var killed = 0;
        foreach (var file in Directory.EnumerateFiles(RuntimeDir, "kernel-*.pid"))
        {
            try
            {
                var parts = File.ReadAllText(file).Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                if (parts.Length == 2 && int.TryParse(parts[0], out var pid) && pid > 1 && StartTime(pid) == parts[1])
                {
                    Libc.kill(-pid, LibcProc.SIGKILL);
                    Libc.kill(pid, LibcProc.SIGKILL);
                    killed++;
                    _log.LogWarning("killed leftover kernel process group {Pid} of a previous appliance", pid);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
            TryDelete(file);
            TryDelete(Path.ChangeExtension(file, ".json"));
        }
        return killed;
    }

    /// <summary>Field 22 of /proc/pid/stat (start time in clock ticks since boot), or "" when the pid is gone.</summary>
    private static string StartTime(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // The command name (field 2) is parenthesised and may hold spaces: count from the last ')'.
            var rest = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return rest.Length > 19 ? rest[19] : "";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }
}
