using System.Runtime;
using Sandbox.Native;

namespace Sandbox.Hosting;

/// <summary>
/// Cold start (docs/performance.md): no garbage collection between <c>Main</c> and the first answer. Start-up
/// allocates several MiB that nearly all survive (the host, DI, routes, endpoints); with the gen-0 budget capped
/// (Sandbox.csproj, System.GC.Gen0MaxBudget) that was two or three collections copying the same live objects,
/// milliseconds before the first answer. A no-GC region of <see cref="Budget"/> bytes covers it; it ends at
/// <see cref="End"/> (the start-up gate: after the first answer), and the next allocations collect as usual.
/// When start-up allocates more than the budget, the runtime collects then and leaves the region by itself.
/// <para>
/// The region's first 4 MiB are also transparent huge pages until <see cref="End"/> (docs/performance.md, "Third
/// round: cold start"): start-up's heap was ~1,300 first-touch 4 KiB page faults (~2 µs each on the VM) before
/// the first answer, 1,024 of them in those 4 MiB; with 2 MiB pages, two. <c>SANDBOX_STARTUP_HUGEPAGES=false</c> turns it
/// off (with native/c/hugepages.c's part for the binary's own data).
/// </para>
/// </summary>
internal static unsafe class StartupHeap
{
    public const long Budget = 24L << 20;
    private const nuint HugePage = 2u << 20;
    /// <summary>
    /// Advised span: the first allocation's 2 MiB chunk and the next one, which start-up fills whole before the first
    /// answer (measured: every 4 KiB page of both was touched). Not the whole budget: a huge page start-up fills
    /// only in part stays resident whole (measured +2 MB RSS after the screenshot bench when all of it was advised).
    /// </summary>
    private const nuint HugeSpan = 2 * HugePage;
    private static int _started;
    private static nuint _hugeStart;

    public static void Begin()
    {
        try { if (GC.TryStartNoGCRegion(Budget)) _started = 1; }
        catch (Exception e) when (e is ArgumentOutOfRangeException or InvalidOperationException) { }
        if (_started == 1 && OperatingSystem.IsLinux() && HugePagesWanted(Environment.GetEnvironmentVariable("SANDBOX_STARTUP_HUGEPAGES")))
            AdviseHugePages();
    }

    public static void End()
    {
        if (Interlocked.Exchange(ref _started, 0) == 0) return;
        // No new huge pages once start-up is done: later allocations fault 4 KiB pages as before (RSS).
        if (_hugeStart != 0) Libc.madvise((void*)_hugeStart, HugeSpan, Libc.MADV_NOHUGEPAGE);
        try { if (GCSettings.LatencyMode == GCLatencyMode.NoGCRegion) GC.EndNoGCRegion(); }
        catch (InvalidOperationException) { } // left already (the budget was exceeded, or a collection was induced)
    }

    /// <summary>On unless <c>SANDBOX_STARTUP_HUGEPAGES</c> is <c>false</c> or <c>0</c> (as native/c/hugepages.c reads it).</summary>
    internal static bool HugePagesWanted(string? value) => value is not ("false" or "0");

    /// <summary>
    /// The small-object heap the no-GC region allocates from, <see cref="HugeSpan"/> from the 2 MiB chunk of the first
    /// allocation on: advised <c>MADV_HUGEPAGE</c> (a decommit maps memory afresh, without the advice; <see cref="End"/>
    /// withdraws it). That first chunk already has 4 KiB pages (the runtime's own start-up objects), which a huge
    /// page fault does not replace, so it is collapsed into one (<c>MADV_COLLAPSE</c>, Linux 6.1+; refused, it stays
    /// as it is). Failures change nothing but the speed.
    /// </summary>
    private static void AdviseHugePages()
    {
        var probe = new byte[1];
        nuint at;
        fixed (byte* p = probe) at = (nuint)p;
        var start = at & ~(HugePage - 1);
        Libc.madvise((void*)start, HugeSpan, Libc.MADV_HUGEPAGE);
        Libc.madvise((void*)start, HugePage, Libc.MADV_COLLAPSE);
        _hugeStart = start;
    }
}
