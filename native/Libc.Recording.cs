using System.Runtime.InteropServices;

namespace Sandbox.Native;

/// <summary>libc for the recording area: a second name for the screen video inside a trajectory folder.</summary>
internal static partial class Libc
{
    /// <summary>link(2): a hard link (same inode, so no copy and no extra space); -1 with errno on failure.</summary>
    [LibraryImport(Libraries.Libc, SetLastError = true)]
    public static unsafe partial int link(byte* oldpath, byte* newpath);
}
