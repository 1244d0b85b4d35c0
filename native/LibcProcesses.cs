using System.Runtime.InteropServices;

namespace Sandbox.Native;

/// <summary>
/// libc for the Processes area: pipes for a command's standard streams and pseudo-terminals
/// (posix_openpt/grantpt/unlockpt/ptsname_r, window size by ioctl). Blittable signatures only.
/// </summary>
internal static unsafe partial class Libc
{
    /// <summary>Two descriptors, [read, write]; flags e.g. O_CLOEXEC.</summary>
    [LibraryImport(Libraries.Libc, SetLastError = true)] public static partial int pipe2(int* fds, int flags);

    [LibraryImport(Libraries.Libc, SetLastError = true)] public static partial int posix_openpt(int flags);
    [LibraryImport(Libraries.Libc, SetLastError = true)] public static partial int grantpt(int fd);
    [LibraryImport(Libraries.Libc, SetLastError = true)] public static partial int unlockpt(int fd);
    /// <summary>Returns 0 or an error number.</summary>
    [LibraryImport(Libraries.Libc)] public static partial int ptsname_r(int fd, byte* buf, nuint buflen);

    /// <summary>ioctl with a pointer argument (TIOCSWINSZ/TIOCGWINSZ with a <see cref="WinSize"/>).</summary>
    [LibraryImport(Libraries.Libc, EntryPoint = "ioctl", SetLastError = true)] public static partial int IoctlPtr(int fd, nuint request, void* arg);

    [LibraryImport(Libraries.Libc, EntryPoint = "read", SetLastError = true)] public static partial nint ReadFd(int fd, byte* buf, nuint count);
    [LibraryImport(Libraries.Libc, EntryPoint = "fcntl", SetLastError = true)] public static partial int FcntlInt(int fd, int cmd, int arg);
}

/// <summary>struct winsize.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct WinSize
{
    public ushort Rows, Cols, XPixel, YPixel;
}

/// <summary>Constants for pipes, terminals and spawning a session leader (glibc, Linux x86-64/arm64).</summary>
internal static class LibcPty
{
    public const int O_RDWR = 2, O_NOCTTY = 0x100, O_NONBLOCK = 0x800, O_CLOEXEC = 0x80000;
    public const short POSIX_SPAWN_SETSID = 0x80;
    public const nuint TIOCSWINSZ = 0x5414, TIOCGWINSZ = 0x5413;
    public const int F_SETFL = 4, F_GETFL = 3;
    public const int EIO = 5, EAGAIN = 11;
}
