using System.Diagnostics;
using Sandbox.Common;

namespace Sandbox.Desktop;

/// <summary>Starts a program detached, in its own process group, reaped when it exits; returns its pid.
/// Supplied by the composition root (the gateway's spawner), so this area imports no other.</summary>
internal delegate Task<int> DetachedSpawn(string file, IReadOnlyList<string> argv, IReadOnlyDictionary<string, string> env);

internal sealed record LaunchWindow(bool? Pid, string? Class, string? Title);

internal sealed record LaunchWait(LaunchWindow? Window, double? TimeoutS);

/// <summary>The body of <c>POST /apps/launch</c>: exactly one of command, argv, desktop_entry, open.</summary>
internal sealed record LaunchRequest(string? Command, string[]? Argv, string? DesktopEntry, string? Open, LaunchWait? Wait);

internal sealed record LaunchAnswer(int Pid, IReadOnlyList<string> Argv, WindowInfo? Window, long ElapsedMs);

/// <summary>
/// <c>POST /apps/launch</c>: spawns detached (own process group, the appliance reaps it) and optionally waits
/// for its window: one whose <c>_NET_WM_PID</c> is the process or a descendant, or matching class / title.
/// </summary>
internal sealed class AppLauncher(DesktopService desktop, DetachedSpawn spawn, string? display, DesktopOptions options)
{
    public async Task<LaunchAnswer> LaunchAsync(LaunchRequest r, CancellationToken ct)
    {
        var given = new object?[] { r.Command, r.Argv, r.DesktopEntry, r.Open }.Count(v => v is not null);
        if (given != 1) throw SandboxException.BadField("body", "give exactly one of command, argv, desktop_entry, open");
        List<string> argv = r switch
        {
            { Command: { } c } when !string.IsNullOrWhiteSpace(c) => ["/bin/sh", "-c", c],
            { Argv: { Length: > 0 } a } when a.All(x => x is not null) => [.. a],
            { DesktopEntry: { } d } when !string.IsNullOrWhiteSpace(d) => DesktopEntryArgv(d),
            { Open: { } o } when !string.IsNullOrWhiteSpace(o) => ["xdg-open", o],
            _ => throw SandboxException.BadField("body", "command, argv, desktop_entry or open must not be empty"),
        };
        var file = Resolve(argv[0]) ?? throw SandboxException.NotFound($"{argv[0]}: no such program on PATH");
        var timeoutMs = (int)Math.Round((r.Wait?.TimeoutS ?? options.DefaultWaitTimeoutMs / 1000.0) * 1000);
        if (timeoutMs < 0 || timeoutMs > options.MaxWaitTimeoutMs)
            throw SandboxException.BadField("wait.timeout_s", $"timeout_s must be 0..{options.MaxWaitTimeoutMs / 1000}");

        var env = new Dictionary<string, string>();
        foreach (System.Collections.DictionaryEntry kv in Environment.GetEnvironmentVariables())
            env[(string)kv.Key] = (string?)kv.Value ?? "";
        if (display is not null) env["DISPLAY"] = display;
        var start = Stopwatch.GetTimestamp();
        int pid;
        try { pid = await spawn(file, argv, env); }
        catch (Exception e) when (e is not SandboxException)
        {
            throw SandboxException.BadRequest($"cannot start {argv[0]}: {e.Message}");
        }
        if (r.Wait is null) return new LaunchAnswer(pid, argv, null, 0);

        var w = r.Wait.Window ?? new LaunchWindow(true, null, null);
        var byPid = w.Pid ?? (w.Class is null && w.Title is null);
        var before = desktop.List().Windows.Select(x => x.Id).ToHashSet();
        while (true)
        {
            var tree = byPid ? ProcessTree(pid) : null;
            var found = desktop.List().Windows.FirstOrDefault(x =>
                (!byPid || (x.Pid is { } p && tree!.Contains(p)))
                && (byPid || !before.Contains(x.Id))
                && WaitService.Matches(x, new WindowMatch(null, null, w.Class, w.Title)));
            var elapsed = (long)Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            if (found is not null) return new LaunchAnswer(pid, argv, found, elapsed);
            if (elapsed >= timeoutMs)
            {
                var what = string.Join(", ", new[] { byPid ? $"_NET_WM_PID in the process tree of {pid}" : null,
                    w.Class is { } c ? $"class \"{c}\"" : null, w.Title is { } t ? $"title containing \"{t}\"" : null }.Where(s => s is not null));
                throw SandboxException.Timeout($"launched {argv[0]} (pid {pid}), but no window with {what} appeared within {timeoutMs} ms"
                    + (WaitService.Alive(pid) ? "" : "; the process has exited"));
            }
            await Task.Delay(Math.Min(options.WaitPollMs, (int)Math.Max(1, timeoutMs - elapsed)), ct);
        }
    }

    /// <summary>The pid and all its descendants, from /proc (stat's 4th field is the parent).</summary>
    public static HashSet<int> ProcessTree(int root)
    {
        var parents = new Dictionary<int, int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                parents[pid] = int.Parse(fields[1]);
            }
            catch (Exception e) when (e is IOException or FormatException or IndexOutOfRangeException or ArgumentOutOfRangeException) { }
        }
        var tree = new HashSet<int> { root };
        bool grew;
        do
        {
            grew = false;
            foreach (var (pid, parent) in parents)
                if (tree.Contains(parent) && tree.Add(pid)) grew = true;
        } while (grew);
        return tree;
    }

    private static string? Resolve(string program)
    {
        if (program.Contains('/')) return File.Exists(program) ? Path.GetFullPath(program) : null;
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/local/bin:/usr/bin:/bin").Split(':'))
        {
            var candidate = Path.Combine(dir, program);
            if (dir.Length > 0 && File.Exists(candidate)) return candidate;
        }
        return null;
    }

    /// <summary>The Exec line of a .desktop entry (by id, e.g. "org.gnome.Calculator" or "xterm.desktop", or a path), field codes removed.</summary>
    private static List<string> DesktopEntryArgv(string entry)
    {
        var name = entry.EndsWith(".desktop", StringComparison.Ordinal) ? entry : entry + ".desktop";
        var dirs = new List<string>();
        if (Environment.GetEnvironmentVariable("XDG_DATA_HOME") is { Length: > 0 } home) dirs.Add(home);
        else if (Environment.GetEnvironmentVariable("HOME") is { Length: > 0 } h) dirs.Add(Path.Combine(h, ".local/share"));
        dirs.AddRange((Environment.GetEnvironmentVariable("XDG_DATA_DIRS") is { Length: > 0 } d ? d : "/usr/local/share:/usr/share").Split(':'));
        var path = entry.StartsWith('/') ? entry
            : dirs.Select(x => Path.Combine(x, "applications", name)).FirstOrDefault(File.Exists)
              ?? throw SandboxException.NotFound($"desktop_entry {entry}: no {name} in the XDG applications directories");
        if (!File.Exists(path)) throw SandboxException.NotFound($"desktop_entry {entry}: no such file");
        var inEntry = false;
        foreach (var raw in File.ReadLines(path))
        {
            var line = raw.Trim();
            if (line.StartsWith('[')) inEntry = line == "[Desktop Entry]";
            else if (inEntry && line.StartsWith("Exec=", StringComparison.Ordinal))
            {
                var argv = SplitExec(line[5..]).Where(a => !(a.Length == 2 && a[0] == '%')).Select(a => a.Replace("%%", "%")).ToList();
                if (argv.Count > 0) return argv;
            }
        }
        throw SandboxException.BadField("desktop_entry", $"{path} has no Exec line");
    }

    private static IEnumerable<string> SplitExec(string exec)
    {
        var current = new System.Text.StringBuilder();
        bool quoted = false, any = false;
        for (var i = 0; i < exec.Length; i++)
        {
            var ch = exec[i];
            if (ch == '"') { quoted = !quoted; any = true; }
            else if (ch == '\\' && quoted && i + 1 < exec.Length) current.Append(exec[++i]);
            else if (ch == ' ' && !quoted) { if (any || current.Length > 0) yield return current.ToString(); current.Clear(); any = false; }
            else current.Append(ch);
        }
        if (any || current.Length > 0) yield return current.ToString();
    }
}
