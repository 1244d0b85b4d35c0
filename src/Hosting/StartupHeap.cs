using System.Runtime;

namespace Sandbox.Hosting;

/// <summary>
/// Cold start (docs/performance.md): no garbage collection between <c>Main</c> and the first answer. Start-up
/// allocates several MiB that nearly all survive (the host, DI, routes, endpoints); with the gen-0 budget capped
/// (Sandbox.csproj, System.GC.Gen0MaxBudget) that was two or three collections copying the same live objects,
/// milliseconds before the first answer. A no-GC region of <see cref="Budget"/> bytes covers it; it ends at
/// <see cref="End"/> (the start-up gate: after the first answer), and the next allocations collect as usual.
/// When start-up allocates more than the budget, the runtime collects then and leaves the region by itself.
/// </summary>
internal static class StartupHeap
{
    public const long Budget = 24L << 20;
    private static int _started;

    public static void Begin()
    {
        try { if (GC.TryStartNoGCRegion(Budget)) _started = 1; }
        catch (Exception e) when (e is ArgumentOutOfRangeException or InvalidOperationException) { }
    }

    public static void End()
    {
        if (Interlocked.Exchange(ref _started, 0) == 0) return;
        try { if (GCSettings.LatencyMode == GCLatencyMode.NoGCRegion) GC.EndNoGCRegion(); }
        catch (InvalidOperationException) { } // left already (the budget was exceeded, or a collection was induced)
    }
}
