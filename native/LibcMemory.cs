using System.Runtime.InteropServices;

namespace Sandbox.Native;

/// <summary>madvise(2), to give the pages of memory we no longer need back to the system at once.</summary>
internal static unsafe partial class Libc
{
    /// <summary>The pages are dropped; a private anonymous page reads as zeros when next touched.</summary>
    public const int MADV_DONTNEED = 4;

    /// <summary><paramref name="address"/> must be page-aligned.</summary>
    [LibraryImport(Libraries.Libc, SetLastError = true)]
    public static partial int madvise(void* address, nuint length, int advice);
}
