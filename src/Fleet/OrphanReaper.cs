using System.Globalization;
using Microsoft.Extensions.Logging;
using Sandbox.Native;

namespace Sandbox.Fleet;

/// <summary>
/// PID 1 duty: processes orphaned inside the container (a kernel's <c>nohup cmd &amp;</c>, Xvfb's helpers) are
/// re-parented to us, and their zombies would pile up unless someone waits for them. A blanket
/// <c>waitpid(-1)</c> on SIGCHLD would steal the exit status of the children the appliance waits for itself
/// (kernels are reaped by a thread blocked in <c>waitpid(pid)</c>, ffmpeg and helpers by .NET's Process,
/// which waits for its own pids on SIGCHLD), so this reaper only takes zombies that stayed zombies across
/// two of its scans: one every <see cref="FleetOptions.ReapIntervalMs"/>, on a monotonic timer. Those are, by
/// then, children nobody here waits for. Children are listed from <c>/proc/self/task/*/children</c>.
/// Runs when this process is PID 1 (or, with <c>SANDBOX_FLEET_REAP=on</c>, as a child subreaper).
/// </summary>
internal sealed class OrphanReaper : IDisposable
{
    private readonly FleetOptions _options;
    private readonly ILogger _log;
    private readonly CancellationTokenSource _stop = new();
    private HashSet<int> _seenZombies = [];
    private int _reaped;

    private OrphanReaper(FleetOptions options, ILogger log)
    {
        _options = options;
        _log = log;
    }

    public int Reaped => Volatile.Read(ref _reaped);

    /// <summary>Starts the reaper when it is wanted; null otherwise.</summary>
    public static OrphanReaper? StartIfWanted(FleetOptions options, ILogger log)
    {
        var pid1 = Libc.getpid() == 1;
        if (options.Reap == ReapMode.Off || (options.Reap == ReapMode.Auto && !pid1)) return null;
        if (!pid1 && Libc.prctl(Libc.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0)
        {
            log.LogWarning("cannot become a child subreaper (errno {Errno}); orphans are not reaped here", System.Runtime.InteropServices.Marshal.GetLastPInvokeError());
            return null;
        }
        var reaper = new OrphanReaper(options, log);
        var thread = new Thread(reaper.Run) { IsBackground = true, Name = "orphan reaper" };
        thread.Start();
        log.LogInformation("reaping orphaned processes ({Role})", pid1 ? "PID 1" : "child subreaper");
        return reaper;
    }

    private void Run()
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(_options.ReapIntervalMs));
        try
        {
            while (timer.WaitForNextTickAsync(_stop.Token).AsTask().GetAwaiter().GetResult())
            {
                try { Scan(); }
                catch (Exception e) { _log.LogWarning(e, "orphan scan failed"); }
            }
        }
        catch (OperationCanceledException) { }
    }

    internal unsafe void Scan()
    {
        var zombies = new HashSet<int>();
        foreach (var pid in Children())
            if (IsZombie(pid)) zombies.Add(pid);
        foreach (var pid in zombies)
        {
            if (!_seenZombies.Contains(pid)) continue;
            int status;
            if (Libc.waitpid(pid, &status, Libc.WNOHANG) == pid) Interlocked.Increment(ref _reaped);
        }
        _seenZombies = zombies;
    }

    private static List<int> Children()
    {
        var pids = new List<int>();
        var listed = false;
        string[] tasks;
        try { tasks = Directory.GetDirectories("/proc/self/task"); }
        catch (IOException) { tasks = []; }
        foreach (var task in tasks)
        {
            string text;
            try { text = File.ReadAllText(Path.Combine(task, "children")); }
            catch (IOException) { continue; }
            catch (UnauthorizedAccessException) { continue; }
            listed = true;
            foreach (var part in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                if (int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var pid)) pids.Add(pid);
        }
        if (listed) return pids;
        // Kernels without CONFIG_PROC_CHILDREN (and some sandboxes) lack the file: find our children by ppid.
        var self = Libc.getpid();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)) continue;
            if (Stat(pid) is { } stat && stat.Ppid == self) pids.Add(pid);
        }
        return pids;
    }

    /// <summary>State and parent of a process from <c>/proc/pid/stat</c>: "pid (comm) S ppid ...", comm may hold spaces and ')'.</summary>
    private static (char State, int Ppid)? Stat(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var close = stat.LastIndexOf(')');
            if (close < 0 || close + 2 >= stat.Length) return null;
            var fields = stat[(close + 2)..].Split(' ', 3);
            return fields.Length >= 2 && int.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out var ppid)
                ? (fields[0][0], ppid) : null;
        }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }

    private static bool IsZombie(int pid) => Stat(pid) is { State: 'Z' };

    public void Dispose()
    {
        _stop.Cancel();
    }
}
