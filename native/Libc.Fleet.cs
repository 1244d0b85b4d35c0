using System.Runtime.InteropServices;

namespace Sandbox.Native;

/// <summary>libc for the fleet area's PID 1 duty: becoming a child subreaper and reaping one zombie by pid.</summary>
internal static partial class Libc
{
    public const int PR_SET_CHILD_SUBREAPER = 36;
    public const int WNOHANG = 1;

    [LibraryImport(Libraries.Libc, SetLastError = true)]
    public static partial int prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);
}
