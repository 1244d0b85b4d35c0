using System.Runtime.InteropServices;

namespace Sandbox.Native;

/// <summary>
/// File descriptors: open(2), read(2), write(2), close(2). Used where .NET's FileStream does not fit:
/// logs shared with child processes need O_APPEND (FileStream tracks its own offset, so lines written by
/// kernels into the same file would be overwritten), and eventfds are not files at all.
/// Wrap every descriptor in a <see cref="SafeFd"/>.
/// </summary>
internal static unsafe partial class Libc
{
    public const int O_RDONLY = 0, O_WRONLY = 1, O_CREAT = 0x40, O_APPEND = 0x400, O_NOFOLLOW = 0x20000, O_CLOEXEC = 0x80000;

    [LibraryImport(Libraries.Libc, SetLastError = true)]
    public static partial int open(byte* path, int flags, uint mode);

    [LibraryImport(Libraries.Libc, SetLastError = true)]
    public static partial nint read(int fd, void* buffer, nuint count);

    [LibraryImport(Libraries.Libc, SetLastError = true)]
    public static partial nint write(int fd, void* buffer, nuint count);

    [LibraryImport(Libraries.Libc, SetLastError = true)]
    public static partial int close(int fd);
}
