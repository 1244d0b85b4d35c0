using System.Runtime.InteropServices;

namespace Sandbox.Native;

/// <summary>madvise(2), to give the pages of memory we no longer need back to the system at once; getrusage(2) for the page faults that brought them back.</summary>
internal static unsafe partial class Libc
{
    /// <summary>The pages are dropped; a private anonymous page reads as zeros when next touched.</summary>
    public const int MADV_DONTNEED = 4;

    /// <summary><paramref name="address"/> must be page-aligned.</summary>
    [LibraryImport(Libraries.Libc, SetLastError = true)]
    public static partial int madvise(void* address, nuint length, int advice);

    public const int RUSAGE_SELF = 0;

    /// <summary>Index of <c>ru_minflt</c> in <c>struct rusage</c> read as 64-bit words (x86-64/arm64: two timevals, then longs).</summary>
    public const int RusageMinorFaultsWord = 8;

    /// <summary>getrusage(2) into <paramref name="usage"/>: at least 18 64-bit words (<c>struct rusage</c>, 144 bytes).</summary>
    [LibraryImport(Libraries.Libc, SetLastError = true)]
    public static partial int getrusage(int who, long* usage);
}
