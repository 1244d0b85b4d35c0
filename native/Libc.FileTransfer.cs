using System.Runtime.InteropServices;

namespace Sandbox.Native;

/// <summary>libc for the Files area's uploads: fsync of a temp file written through a SafeFileHandle.</summary>
internal static partial class Libc
{
    [LibraryImport(Libraries.Libc, SetLastError = true)]
    public static partial int fsync(int fd);
}
