using System.Runtime.InteropServices;

namespace Sandbox.Native;

/// <summary>File ownership checks: statx has one layout on every architecture, unlike struct stat.</summary>
internal static unsafe partial class Libc
{
    public const int AT_FDCWD = -100;
    public const int AT_SYMLINK_NOFOLLOW = 0x100;
    public const uint STATX_TYPE = 0x1, STATX_MODE = 0x2, STATX_UID = 0x8;
    public const int S_IFMT = 0xF000, S_IFDIR = 0x4000, S_IFLNK = 0xA000;

    /// <summary>The head of <c>struct statx</c> (linux/stat.h); the call writes 256 bytes, see <see cref="StatxBuffer"/>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct StatxHead
    {
        public uint Mask;
        public uint BlockSize;
        public ulong Attributes;
        public uint Links;
        public uint Uid;
        public uint Gid;
        public ushort Mode;
    }

    [StructLayout(LayoutKind.Sequential, Size = 256)]
    public struct StatxBuffer
    {
        public StatxHead Head;
    }

    [LibraryImport(Libraries.Libc, SetLastError = true)]
    public static partial int statx(int dirfd, byte* path, int flags, uint mask, StatxBuffer* buffer);

    [LibraryImport(Libraries.Libc)] public static partial uint geteuid();
}
