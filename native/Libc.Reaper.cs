using System.Runtime.InteropServices;

namespace Sandbox.Native;

/// <summary>
/// libc for reaping children without a thread each: a pidfd per child (readable once it has exited, glibc
/// 2.36+, Linux 5.3+) watched by one epoll. <c>struct epoll_event</c> is packed on x86-64 (12 bytes, data at 4)
/// and naturally aligned elsewhere (16 bytes, data at 8): callers lay it out by hand (<see cref="LibcEpoll"/>).
/// </summary>
internal static unsafe partial class Libc
{
    [LibraryImport(Libraries.Libc, SetLastError = true)] public static partial int pidfd_open(int pid, uint flags);
    [LibraryImport(Libraries.Libc, SetLastError = true)] public static partial int epoll_create1(int flags);
    [LibraryImport(Libraries.Libc, SetLastError = true)] public static partial int epoll_ctl(int epfd, int op, int fd, void* ev);
    [LibraryImport(Libraries.Libc, SetLastError = true)] public static partial int epoll_wait(int epfd, void* events, int maxEvents, int timeoutMs);
}

internal static class LibcEpoll
{
    public const int EPOLL_CLOEXEC = 0x80000, EPOLL_CTL_ADD = 1, EPOLL_CTL_DEL = 2;
    public const uint EPOLLIN = 0x001;
    public static readonly bool Packed = RuntimeInformation.ProcessArchitecture == Architecture.X64;
    public static int EventSize => Packed ? 12 : 16;
    public static int DataOffset => Packed ? 4 : 8;
}
