using System.Diagnostics;

namespace Sandbox.Common;

/// <summary>
/// Start-up timeline for profiling the cold start (docs/performance.md): with SANDBOX_STARTUP_TRACE=1 each
/// <see cref="Mark"/> writes one stderr line "startup-trace MONOTONIC_NS THREAD NAME gc0=N alloc=Kk" (CLOCK_MONOTONIC, the
/// clock a launcher's perf_counter reads; N: gen-0 collections so far; K: KiB allocated on the GC heap so far), so a harness can place every step against its exec time.
/// </summary>
internal static class StartupTrace
{
    private static readonly bool On = Environment.GetEnvironmentVariable("SANDBOX_STARTUP_TRACE") == "1";

    public static bool Enabled => On;
    private static int _requests;

    public static void Mark(string name)
    {
        if (!On) return;
        // Stopwatch on Linux is CLOCK_MONOTONIC in nanoseconds.
        Console.Error.WriteLine($"startup-trace {Stopwatch.GetTimestamp() * (1_000_000_000 / Stopwatch.Frequency)} {Environment.CurrentManagedThreadId} {name} gc0={GC.CollectionCount(0)} alloc={GC.GetTotalAllocatedBytes() >> 10}k");
    }

    /// <summary>Marks only the first few requests (the start-up's first answers).</summary>
    public static void Request(string name)
    {
        if (!On || Interlocked.Increment(ref _requests) > 12) return;
        Mark(name);
    }
}
