using System.Globalization;

namespace Sandbox.Fleet;

/// <summary>The CPU and memory limits of the cgroup this process runs in, as <c>/health</c> reports them.</summary>
internal sealed record ContainerHealth(
    int CgroupVersion,
    double? CpuLimit,
    long? MemoryLimitBytes,
    int ProcessorCount,
    int KernelPoolCap,
    string? MemorySource = null);

/// <summary>
/// Reads the container's limits from cgroup v2 (<c>cpu.max</c>, <c>memory.max</c>) or v1
/// (<c>cpu.cfs_quota_us</c>/<c>cpu.cfs_period_us</c>, <c>memory.limit_in_bytes</c>), walking from this
/// process's cgroup up to the root and keeping the tightest value, so nesting (a pod inside a VM's slice)
/// gives the limit that actually applies. .NET already sizes its thread pool and GC heap from the same
/// files; the appliance uses the figures for what .NET does not know about: how many idle kernels to keep.
/// </summary>
internal static class ContainerLimits
{
    /// <summary>Memory an idle ipykernel with pyautogui imported holds, roughly (measured ~60 MB RSS).</summary>
    public const long KernelBytes = 96L << 20;

    /// <summary>Memory the appliance, Xvfb and a recording need before any kernel.</summary>
    public const long BaseBytes = 256L << 20;

    public static ContainerHealth Read(string cgroupRoot = "/sys/fs/cgroup", string procSelfCgroup = "/proc/self/cgroup")
    {
        string[] lines;
        try { lines = File.ReadAllLines(procSelfCgroup); }
        catch (IOException) { lines = []; }
        catch (UnauthorizedAccessException) { lines = []; }
        return Read(cgroupRoot, lines, "/proc/meminfo");
    }

    internal static ContainerHealth Read(string root, IReadOnlyList<string> cgroupLines, string? meminfo = null)
    {
        // No cgroup file system at all (gVisor shows none): such sandboxes size /proc/meminfo's MemTotal to the
        // container's limit, so that is the limit. A host with cgroups and no limit stays unlimited (null).
        bool hasCgroupFs;
        try { hasCgroupFs = Directory.Exists(root) && Directory.EnumerateFileSystemEntries(root).Any(); }
        catch (IOException) { hasCgroupFs = false; }
        catch (UnauthorizedAccessException) { hasCgroupFs = false; }
        if (!hasCgroupFs)
        {
            var total = meminfo is null ? null : MemTotal(meminfo);
            return new ContainerHealth(0, null, total, Environment.ProcessorCount, KernelPoolCap(total), total is null ? null : "meminfo");
        }

        string? unified = null;
        string? cpuPath = null, memoryPath = null;
        foreach (var line in cgroupLines)
        {
            // hierarchy-id:controller-list:path
            var first = line.IndexOf(':');
            var second = first < 0 ? -1 : line.IndexOf(':', first + 1);
            if (second < 0) continue;
            var controllers = line[(first + 1)..second];
            var path = line[(second + 1)..];
            if (line.StartsWith("0::", StringComparison.Ordinal)) unified = path;
            foreach (var c in controllers.Split(','))
            {
                if (c == "cpu") cpuPath = path;
                else if (c == "memory") memoryPath = path;
            }
        }

        var v2 = File.Exists(Path.Combine(root, "cgroup.controllers"));
        double? cpu;
        long? memory;
        int version;
        if (v2)
        {
            version = 2;
            var dirs = Ancestry(root, unified ?? "/");
            cpu = Min(dirs.Select(d => ParseCpuMax(ReadText(Path.Combine(d, "cpu.max")))));
            memory = Min(dirs.Select(d => ParseBytes(ReadText(Path.Combine(d, "memory.max")))));
        }
        else
        {
            version = 1;
            var cpuRoot = new[] { "cpu", "cpu,cpuacct", "cpuacct,cpu" }.Select(n => Path.Combine(root, n)).FirstOrDefault(Directory.Exists);
            var memoryRoot = Path.Combine(root, "memory");
            cpu = cpuRoot is null ? null : Min(Ancestry(cpuRoot, cpuPath ?? "/").Select(d => ParseCfs(
                ReadText(Path.Combine(d, "cpu.cfs_quota_us")), ReadText(Path.Combine(d, "cpu.cfs_period_us")))));
            memory = Directory.Exists(memoryRoot)
                ? Min(Ancestry(memoryRoot, memoryPath ?? "/").Select(d => ParseBytes(ReadText(Path.Combine(d, "memory.limit_in_bytes")))))
                : null;
        }
        return new ContainerHealth(version, cpu, memory, Environment.ProcessorCount, KernelPoolCap(memory), memory is null ? null : "cgroup");
    }

    /// <summary>How many idle kernels fit beside the appliance in <paramref name="memoryLimit"/> (at most 64; unlimited = 64).</summary>
    public static int KernelPoolCap(long? memoryLimit) =>
        memoryLimit is not { } m ? 64 : (int)Math.Clamp((m - BaseBytes) / KernelBytes, 0, 64);

    /// <summary>The directories from the process's own cgroup up to the hierarchy's root (those that exist here).</summary>
    internal static List<string> Ancestry(string mount, string path)
    {
        var dirs = new List<string>();
        var p = path.TrimEnd('/');
        while (true)
        {
            var dir = p.Length == 0 ? mount : Path.Combine(mount, p.TrimStart('/'));
            if (Directory.Exists(dir)) dirs.Add(dir);
            if (p.Length == 0) break;
            var slash = p.LastIndexOf('/');
            p = slash <= 0 ? "" : p[..slash];
        }
        return dirs;
    }

    /// <summary>MemTotal of /proc/meminfo in bytes ("MemTotal:  1048576 kB").</summary>
    internal static long? MemTotal(string meminfo)
    {
        var text = ReadText(meminfo);
        if (text is null) return null;
        foreach (var line in text.Split('\n'))
        {
            if (!line.StartsWith("MemTotal:", StringComparison.Ordinal)) continue;
            var parts = line["MemTotal:".Length..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return parts.Length > 0 && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var kb) ? kb * 1024 : null;
        }
        return null;
    }

    private static string? ReadText(string file)
    {
        try { return File.ReadAllText(file).Trim(); }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }

    /// <summary>cgroup v2 <c>cpu.max</c>: "quota period" or "max period".</summary>
    internal static double? ParseCpuMax(string? text)
    {
        if (text is null) return null;
        var parts = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0 || parts[0] == "max") return null;
        if (!long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var quota)) return null;
        var period = parts.Length > 1 && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var p) && p > 0 ? p : 100_000;
        return Math.Round((double)quota / period, 3);
    }

    /// <summary>cgroup v1 CFS quota (-1 = none) over its period.</summary>
    internal static double? ParseCfs(string? quota, string? period)
    {
        if (quota is null || !long.TryParse(quota, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var q) || q <= 0) return null;
        var p = period is not null && long.TryParse(period, NumberStyles.None, CultureInfo.InvariantCulture, out var pp) && pp > 0 ? pp : 100_000;
        return Math.Round((double)q / p, 3);
    }

    /// <summary>A byte limit; "max" (v2) and v1's "no limit" (a page-rounded LONG_MAX) are null.</summary>
    internal static long? ParseBytes(string? text)
    {
        if (text is null || text == "max") return null;
        if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var v)) return null;
        return v >= (1L << 62) ? null : v;
    }

    private static double? Min(IEnumerable<double?> values) =>
        values.Where(v => v.HasValue).Select(v => v!.Value).DefaultIfEmpty(double.NaN).Min() is var m && double.IsNaN(m) ? null : m;

    private static long? Min(IEnumerable<long?> values)
    {
        long? best = null;
        foreach (var v in values)
            if (v is { } x && (best is null || x < best)) best = x;
        return best;
    }
}
