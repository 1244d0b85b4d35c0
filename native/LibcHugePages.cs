namespace Sandbox.Native;

/// <summary>madvise(2) advice for transparent huge pages (cold start: Hosting/StartupHeap, native/c/hugepages.c).</summary>
internal static unsafe partial class Libc
{
    /// <summary>The range may be backed by 2 MiB pages (THP in "madvise" mode, Debian's default).</summary>
    public const int MADV_HUGEPAGE = 14;

    /// <summary>No new huge pages in the range (existing ones stay until split or freed).</summary>
    public const int MADV_NOHUGEPAGE = 15;

    /// <summary>Collapses the range's pages into huge pages now (Linux 6.1+; independent of the THP mode).</summary>
    public const int MADV_COLLAPSE = 25;
}
