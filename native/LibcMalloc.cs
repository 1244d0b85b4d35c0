using System.Runtime.InteropServices;

namespace Sandbox.Native;

/// <summary>mallopt(3): glibc allocator tuning, set once at start-up (src/Hosting/MallocTuning.cs).</summary>
internal static partial class Libc
{
    /// <summary>Allocations of at least this many bytes are mmap'd and unmapped again when freed.</summary>
    public const int M_MMAP_THRESHOLD = -3;

    /// <summary>Returns 1 on success, 0 on error.</summary>
    [LibraryImport(Libraries.Libc)]
    public static partial int mallopt(int param, int value);
}
