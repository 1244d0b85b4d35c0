using System.Runtime.InteropServices;

namespace Sandbox.Native;

/// <summary>libc calls that keep secrets out of reach of other processes of the same user.</summary>
internal static unsafe partial class Libc
{
    public const int PR_SET_DUMPABLE = 4;   // prctl itself is bound in Libc.Fleet.cs


    /// <summary>A pointer into the process's own environment block (the one /proc/PID/environ shows), or null.</summary>
    [LibraryImport(Libraries.Libc)] public static partial byte* getenv(byte* name);
}
