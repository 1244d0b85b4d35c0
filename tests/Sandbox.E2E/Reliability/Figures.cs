using System.Diagnostics;
using System.Globalization;
using Xunit.Abstractions;

namespace Sandbox.E2E.Reliability;

/// <summary>
/// The reliability tests' summary lines ("fuzz: 3000 inputs tried, 0 server errors"): written to the test's
/// output and appended to <c>SANDBOX_FIGURES_FILE</c> (test.sh prints that file at the end, so CI logs show the
/// figures of every run, passed or not).
/// </summary>
internal static class Figures
{
    private static readonly object Gate = new();

    public static void Report(ITestOutputHelper output, string line)
    {
        output.WriteLine(line);
        var file = Environment.GetEnvironmentVariable("SANDBOX_FIGURES_FILE");
        if (string.IsNullOrEmpty(file)) return;
        lock (Gate) File.AppendAllText(file, line + "\n");
    }

    /// <summary>Resident set size of a process, from /proc, in MB.</summary>
    public static double RssMb(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024.0;
        throw new InvalidOperationException("no VmRSS");
    }

    public static double Percentile(List<double> sorted, double p) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p / 100 * sorted.Count) - 1)];

    public static string Ms(double v) => v.ToString("0.0", CultureInfo.InvariantCulture);
}

/// <summary>System V shared-memory segments, from /proc/sysvipc/shm.</summary>
internal sealed record ShmSegment(int Id, int Mode, long Size, int CreatorPid, int Attached)
{
    public static List<ShmSegment> All()
    {
        var list = new List<ShmSegment>();
        foreach (var line in File.ReadLines("/proc/sysvipc/shm").Skip(1))
        {
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length < 7) continue;
            list.Add(new ShmSegment(int.Parse(f[1], CultureInfo.InvariantCulture), Convert.ToInt32(f[2], 8),
                long.Parse(f[3], CultureInfo.InvariantCulture), int.Parse(f[4], CultureInfo.InvariantCulture),
                int.Parse(f[6], CultureInfo.InvariantCulture)));
        }
        return list;
    }

    public static List<ShmSegment> CreatedBy(int pid) => All().Where(s => s.CreatorPid == pid).ToList();

    /// <summary>Polls until the process's segments are gone (the X server detaches when it sees the client die).</summary>
    public static List<ShmSegment> WaitGone(int pid, int timeoutMs = 10_000)
    {
        var sw = Stopwatch.StartNew();
        while (true)
        {
            var left = CreatedBy(pid);
            if (left.Count == 0 || sw.ElapsedMilliseconds > timeoutMs) return left;
            Thread.Sleep(50);
        }
    }
}

/// <summary>The reliability tests measure memory and latency and load the machine: they run alone.</summary>
[CollectionDefinition("Reliability", DisableParallelization = true)]
public sealed class ReliabilityCollection;
