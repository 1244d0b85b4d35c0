using System.Runtime.InteropServices;

namespace Sandbox.Native;

/// <summary>The errno values the appliance tells apart (Linux, asm-generic/errno-base.h and errno.h).</summary>
internal enum Errno
{
    None = 0,
    ESRCH = 3,
    EINTR = 4,
    ECHILD = 10,
    EAGAIN = 11,
    ENOSPC = 28,
    EDQUOT = 122,
}

/// <summary>A failed libc call, with the errno read once, right after it (<see cref="Libc.LastError"/>).</summary>
internal sealed class NativeCallException(string call, Errno errno)
    : Exception($"{call} failed: {Marshal.GetPInvokeErrorMessage((int)errno)} (errno {(int)errno})")
{
    public Errno Errno { get; } = errno;

    public static NativeCallException FromLastError(string call) => new(call, Libc.LastError());
}

internal static partial class Libc
{
    /// <summary>
    /// The errno left by the last <c>SetLastError = true</c> call on this thread. Read it once, right after
    /// the call, and pass the value on (<see cref="NativeCallException"/>): a second read may see another call's.
    /// </summary>
    public static Errno LastError() => (Errno)Marshal.GetLastPInvokeError();
}
