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

    private readonly object _zygoteLock = new();
    private readonly Dictionary<string, Task<KernelZygote?>> _zygotes = new(StringComparer.Ordinal);
    private int _zygoteFailures;

    /// <summary>
    /// Starts a kernel: forked by the kernel zygote of its Python when the spec is a plain
    /// <c>python -m ipykernel_launcher -f {connection_file}</c> (or <c>-m ipykernel</c>) and a zygote for that
    /// interpreter and its start-up environment runs or can be started; exec'd otherwise, or when the
    /// zygote fails. <paramref name="start"/> is what <see cref="Build"/> made for the spec.
    /// </summary>
    public async Task<ChildProcess> StartAsync(KernelSpec spec, ChildStart start)
    {
        if (ZygoteArgs(spec, start) is { } plan)
        {
            var zygote = await ZygoteFor(plan.Python, plan.Key, start.Env).ConfigureAwait(false);
            if (zygote is not null)
            {
                try
                {
                    return await zygote.StartKernelAsync(plan.Args, start.Env, start.Cwd, start.LogPath, TimeSpan.FromSeconds(10)).ConfigureAwait(false);
                }
                catch (SpawnException e)
                {
                    _log.LogWarning("kernel zygote failed ({Error}); starting the kernel with exec", e.Message);
                }
            }
        }
        return await ChildProcess.StartAsync(start).ConfigureAwait(false);
    }

    /// <summary>Starts the zygote for <paramref name="spec"/> ahead of the first request (at boot).</summary>
    public void Warm(KernelSpec spec)
    {
        var env = BuildEnv(spec, "", null);
        var start = new ChildStart("", spec.Argv.Select(a => Substitute(a, spec, "")).ToList(), env, null, null);
        if (ZygoteArgs(spec, start) is { } plan) _ = ZygoteFor(plan.Python, plan.Key, env);
    }

    /// <summary>The interpreter, the arguments for ipykernel's app and the zygote key, or null when the spec needs exec.</summary>
    private (string Python, string[] Args, string Key)? ZygoteArgs(KernelSpec spec, ChildStart start)
    {
        if (!_options.KernelZygote) return null;
        var a = spec.Argv;
        if (a.Length != 5 || a[1] != "-m" || a[2] is not ("ipykernel_launcher" or "ipykernel") || a[3] != "-f" || a[4] != "{connection_file}")
            return null;
        var python = Lookup.Executable(Substitute(a[0], spec, ""), start.Env.GetValueOrDefault("PATH"));
        if (python is null || !Path.GetFileName(python).StartsWith("python", StringComparison.Ordinal)) return null;
        // What the interpreter reads at start-up must match the zygote's: one zygote per such set.
        var key = new System.Text.StringBuilder(python);
        foreach (var (k, v) in start.Env.Where(kv => kv.Key.StartsWith("PYTHON", StringComparison.Ordinal)
                     || kv.Key.StartsWith("LD_", StringComparison.Ordinal) || kv.Key == "VIRTUAL_ENV").OrderBy(kv => kv.Key, StringComparer.Ordinal))
            key.Append('\0').Append(k).Append('=').Append(v);
        var file = start.Argv.Count > 0 ? start.Argv[^1] : "";
        return (python, ["-f", file], key.ToString());
    }

    private Task<KernelZygote?> ZygoteFor(string python, string key, IReadOnlyDictionary<string, string> env)
    {
        lock (_zygoteLock)
        {
            if (_zygotes.TryGetValue(key, out var existing))
            {
                if (!existing.IsCompleted || existing.Result is null || existing.Result.IsAlive) return existing;
                existing.Result.Dispose();
                _zygoteFailures++;
            }
            if (_zygoteFailures >= 3) return _zygotes[key] = Task.FromResult<KernelZygote?>(null);   // keeps dying: exec from now on
            var started = StartZygoteAsync(python, env);
            _zygotes[key] = started;
            return started;
        }
    }

    private async Task<KernelZygote?> StartZygoteAsync(string python, IReadOnlyDictionary<string, string> env)
    {
        try
        {
            var z = await KernelZygote.StartAsync(python, _setpriv, env, _options.LogPath, TimeSpan.FromSeconds(60), _log).ConfigureAwait(false);
            _log.LogInformation("kernel zygote for {Python} ready, pid {Pid}", python, z.Process.Pid);
            return z;
        }
        catch (Exception e) when (e is SpawnException or IOException or TimeoutException or NativeCallException)
        {
            _log.LogWarning("no kernel zygote for {Python} ({Error}); kernels start with exec", python, e.Message);
            return null;
        }
    }

    /// <summary>Stops the zygotes (their kernels die with them); the appliance is exiting.</summary>
    public void StopZygotes()
    {
        lock (_zygoteLock)
        {
            foreach (var z in _zygotes.Values)
                if (z.IsCompletedSuccessfully && z.Result is { } zygote) zygote.Dispose();
            _zygotes.Clear();
        }
    }

    /// <summary>Whether kernels die with the appliance through PR_SET_PDEATHSIG (setpriv found).</summary>
    public bool UsesDeathSignal => _setpriv is not null;

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
                if (parts.Length == 2 && int.TryParse(parts[0], out var pid) && pid > 1)
                {
                    var started = StartTime(pid);
                    if (started == parts[1])
                    {
                        Libc.kill(-pid, LibcProc.SIGKILL);
                        Libc.kill(pid, LibcProc.SIGKILL);
                        killed++;
                        _log.LogWarning("killed leftover kernel process group {Pid} of a previous appliance", pid);
                    }
                    else if (started == "" && Libc.kill(-pid, LibcProc.SIGKILL) == 0)
                    {
                        // The kernel itself is gone (died with the appliance and was reaped) but its group
                        // lives on in what it started. Linux does not hand out a pid while a process group
                        // still carries it, so a group with this id can only be the kernel's.
                        killed++;
                        _log.LogWarning("killed what remained of leftover kernel process group {Pid}", pid);
                    }
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
