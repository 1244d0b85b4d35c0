using System.Runtime.InteropServices;

namespace Sandbox.Native;

/// <summary>libc for the Files area: statx (owner ids, with one layout on every architecture) and inotify.</summary>
internal static unsafe partial class Libc
{
    /// <summary>buf: 256 bytes (struct statx).</summary>
    [LibraryImport(Libraries.Libc, SetLastError = true)] public static partial int statx(int dirfd, byte* path, int flags, uint mask, byte* buf);

    [LibraryImport(Libraries.Libc)] public static partial uint geteuid();

    [LibraryImport(Libraries.Libc, SetLastError = true)] public static partial int inotify_init1(int flags);
    [LibraryImport(Libraries.Libc, SetLastError = true)] public static partial int inotify_add_watch(int fd, byte* path, uint mask);
}

internal static class LibcFiles
{
    public const int AT_FDCWD = -100, AT_SYMLINK_NOFOLLOW = 0x100;
    public const uint STATX_BASIC_STATS = 0x7ff;
    public const uint STATX_TYPE = 0x1, STATX_MODE = 0x2, STATX_UID = 0x8;
    public const int StatxSize = 256, StatxUidOffset = 20, StatxGidOffset = 24, StatxModeOffset = 28;
    public const int S_IFMT = 0xF000, S_IFDIR = 0x4000, S_IFLNK = 0xA000;

    public const int IN_NONBLOCK = 0x800, IN_CLOEXEC = 0x80000;
    public const uint IN_MODIFY = 0x2, IN_CLOSE_WRITE = 0x8, IN_MOVED_FROM = 0x40, IN_MOVED_TO = 0x80, IN_CREATE = 0x100,
        IN_DELETE = 0x200, IN_DELETE_SELF = 0x400, IN_MOVE_SELF = 0x800, IN_Q_OVERFLOW = 0x4000, IN_IGNORED = 0x8000,
        IN_ISDIR = 0x40000000, IN_ONLYDIR = 0x01000000;
}
