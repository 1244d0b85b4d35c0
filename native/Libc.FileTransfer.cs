using System.Runtime.InteropServices;

namespace Sandbox.Native;

/// <summary>libc for the Files area's uploads: fsync of a temp file written through a SafeFileHandle.</summary>
internal static partial class Libc
{
    [LibraryImport(Libraries.Libc, SetLastError = true)]
    public static partial int fsync(int fd);
}

internal static partial class Libc
{
    public const uint SYNC_FILE_RANGE_WRITE = 2;

    /// <summary>Starts the write-back of a range (Linux); an upload overlaps its disk writes with the network.</summary>
    [LibraryImport(Libraries.Libc, SetLastError = true)]
    public static partial int sync_file_range(int fd, long offset, long count, uint flags);
}
