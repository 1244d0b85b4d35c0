using System.Runtime.InteropServices;

namespace Sandbox.Native;

/// <summary>libc calls that keep secrets out of reach of other processes of the same user.</summary>
internal static unsafe partial class Libc
{
    public const int PR_SET_DUMPABLE = 4;

    [LibraryImport(Libraries.Libc, SetLastError = true)] public static partial int prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);

    /// <summary>A pointer into the process's own environment block (the one /proc/PID/environ shows), or null.</summary>
    [LibraryImport(Libraries.Libc)] public static partial byte* getenv(byte* name);
}
