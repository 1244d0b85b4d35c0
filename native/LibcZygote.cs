using System.Runtime.InteropServices;

namespace Sandbox.Native;

/// <summary>The pipes between the appliance and the kernel zygote.</summary>
internal static unsafe partial class Libc
{
    /// <summary>fds[0] is the read end, fds[1] the write end; 0 or -1 (errno).</summary>
    [LibraryImport(Libraries.Libc, EntryPoint = "pipe2", SetLastError = true)]
    public static partial int Pipe2(int* fds, int flags);
}
