using System.Collections;
using Sandbox.Common;

namespace Sandbox.Processes;

/// <summary>Turns a request into what to exec: the program found on PATH, argv, the environment
/// (the appliance's, secrets removed, the request's on top), the working directory.</summary>
internal sealed class CommandLine
{
    private static readonly string[] Secrets = ["KG_AUTH_TOKEN", "SANDBOX_TOKEN"];
    private readonly ProcessesOptions _options;
    private readonly IReadOnlyDictionary<string, string> _baseEnv;
    private readonly string? _setpriv;
    private readonly Action<int>? _spawned;
    private readonly string? _guardToken;

    /// <param name="spawned">Told each new command's pid (= its process group) on the spawning thread: the guardian.</param>
    /// <param name="setpriv">Without a guardian: wrap commands in <c>setpriv --pdeathsig KILL</c> (one more exec each).</param>
    /// <param name="guardToken">The guardian's token, put in every command's environment.</param>
    public CommandLine(ProcessesOptions options, IDictionary appEnv, Action<int>? spawned, string? guardToken, bool setpriv)
    {
        _spawned = spawned;
        _guardToken = guardToken;
        _options = options;
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry e in appEnv)
            if (e.Key is string k && e.Value is string v) env[k] = v;
        foreach (var s in Secrets) env.Remove(s);
        _baseEnv = env;
        if (setpriv)
            _setpriv = new[] { "/usr/bin/setpriv", "/bin/setpriv" }.FirstOrDefault(File.Exists);
    }

    public IReadOnlyDictionary<string, string> BaseEnv => _baseEnv;

    /// <summary>The argv the client meant (before any setpriv wrapper): for listing and for errors.</summary>
    public IReadOnlyList<string> Argv(RunRequest r)
    {
        if (r.Argv is { } argv)
        {
            if (r.Command is not null) throw SandboxException.BadField("argv", "give either command or argv, not both");
            if (argv.Count == 0 || string.IsNullOrEmpty(argv[0])) throw SandboxException.BadField("argv", "argv[0] (the program) is required");
            if (argv.Any(a => a is null || a.Contains('\0'))) throw SandboxException.BadField("argv", "arguments must be strings without NUL");
            if (r.Shell == true) throw SandboxException.BadField("shell", "argv runs without a shell; give command to run through one");
            return argv;
        }
        if (r.Command is null) throw SandboxException.BadField("command", "command (a shell command line) or argv (a list) is required");
        if (r.Command.Contains('\0')) throw SandboxException.BadField("command", "cannot contain NUL");
        if (r.Shell == false) throw SandboxException.BadField("shell", "a command string runs through the shell; give argv to run without one");
        return [_options.Shell, "-c", r.Command];
    }

    public ChildStart Build(RunRequest r, IReadOnlyList<string> argv, IReadOnlyDictionary<string, string>? extraEnv = null)
    {
        var env = new Dictionary<string, string>(_baseEnv, StringComparer.Ordinal);
        if (extraEnv is not null) foreach (var (k, v) in extraEnv) env[k] = v;
        if (r.Env is { } requestEnv)
            foreach (var (k, v) in requestEnv)
            {
                if (k.Length == 0 || k.Contains('=') || k.Contains('\0')) throw SandboxException.BadField("env", $"'{k}' is not a variable name");
                if (v is null) env.Remove(k);
                else if (v.Contains('\0')) throw SandboxException.BadField("env", $"{k}: a value cannot contain NUL");
                else env[k] = v;
            }

        if (_guardToken is not null) env[Guardian.Variable] = _guardToken;

        var cwd = r.Cwd is null ? HomePath.Home : HomePath.Resolve(r.Cwd, "cwd");
        if (!Directory.Exists(cwd)) throw SandboxException.BadField("cwd", $"{cwd} is not a directory");

        var program = Resolve(argv[0], env.GetValueOrDefault("PATH"), cwd)
            ?? throw SandboxException.BadField(r.Argv is null ? "command" : "argv", $"{argv[0]}: no such executable (PATH searched)");
        var execArgv = new List<string>(argv.Count + 4);
        if (_setpriv is not null)
        {
            // setpriv sets PR_SET_PDEATHSIG on itself and execs the command, which keeps it.
            execArgv.AddRange([_setpriv, "--pdeathsig", "KILL", "--", program]);
            execArgv.AddRange(argv.Skip(1));
            return new ChildStart(_setpriv, execArgv, env, cwd, null) { Spawned = _spawned };
        }
        execArgv.Add(argv[0]);
        execArgv.AddRange(argv.Skip(1));
        return new ChildStart(program, execArgv, env, cwd, null) { Spawned = _spawned };
    }

    /// <summary>An executable file: a path with a slash as is (relative to cwd), else the first on PATH.</summary>
    internal static string? Resolve(string name, string? path, string cwd)
    {
        if (name.Contains('/'))
        {
            var full = Path.GetFullPath(name, cwd);
            return IsExecutable(full) ? full : null;
        }
        foreach (var dir in (path ?? "/usr/local/bin:/usr/bin:/bin").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, name);
            if (IsExecutable(candidate)) return candidate;
        }
        return null;
    }

    private static bool IsExecutable(string path)
    {
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists) return false;
            const UnixFileMode anyExec = UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;
            return (info.UnixFileMode & anyExec) != 0;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
    }
}
