using Sandbox.Native;

namespace Sandbox.Hosting;

/// <summary>
/// glibc's allocator, tuned once at start-up (docs/performance.md, "Memory"). By default glibc raises its
/// mmap threshold each time a large block is freed, so later large blocks (zlib's deflate state, about
/// 270 KiB per PNG band and encode) come from per-thread arenas and stay resident after they are freed:
/// measured 8.5 MB of arena memory after 60 screenshots. A fixed threshold
/// (<c>SANDBOX_MALLOC_MMAP_THRESHOLD</c>, 128 KiB) gives every such block its own mapping, returned to the
/// system when freed. An operator's own <c>MALLOC_MMAP_THRESHOLD_</c> (glibc's variable) wins.
/// </summary>
internal static class MallocTuning
{
    public static void Apply(int threshold, System.Collections.IDictionary env)
    {
        if (threshold <= 0 || !OperatingSystem.IsLinux() || env["MALLOC_MMAP_THRESHOLD_"] is not null) return;
        try { Libc.mallopt(Libc.M_MMAP_THRESHOLD, threshold); }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { /* not glibc: nothing to tune */ }
    }
}
