using System.Runtime.InteropServices;

namespace Sandbox.Native;

/// <summary>poll(2) and an eventfd, for threads that wait on a socket and must be woken from elsewhere.</summary>
internal static unsafe partial class Libc
{
    public const short POLLIN = 0x001;
    public const short POLLERR = 0x008;
    public const short POLLHUP = 0x010;
    public const short POLLNVAL = 0x020;
    public const int EFD_CLOEXEC = 0x80000;
    public const int EFD_NONBLOCK = 0x800;
    public const int EINTR = 4;

    [LibraryImport(Libraries.Libc, SetLastError = true)]
    public static partial int poll(PollFd* fds, nuint count, int timeoutMs);

    [LibraryImport(Libraries.Libc, SetLastError = true)]
    public static partial int eventfd(uint initialValue, int flags);

    [LibraryImport(Libraries.Libc, SetLastError = true)]
    public static partial nint read(int fd, void* buffer, nuint count);

    [LibraryImport(Libraries.Libc, SetLastError = true)]
    public static partial nint write(int fd, void* buffer, nuint count);

    [LibraryImport(Libraries.Libc, SetLastError = true)]
    public static partial int close(int fd);
}

[StructLayout(LayoutKind.Sequential)]
internal struct PollFd
{
    public int Fd;
    public short Events;
    public short Revents;
}

/// <summary>An eventfd used as a doorbell: <see cref="Ring"/> from any thread wakes a poll on <see cref="Fd"/>.</summary>
internal sealed unsafe class EventFd : IDisposable
{
    private int _fd;

    public EventFd()
    {
        _fd = Libc.eventfd(0, Libc.EFD_CLOEXEC | Libc.EFD_NONBLOCK);
        if (_fd < 0) throw NativeCallException.FromLastError("eventfd");
    }

    public int Fd => _fd;

    public void Ring()
    {
        ulong one = 1;
        if (_fd >= 0) Libc.write(_fd, &one, 8);
    }

    /// <summary>Clears the counter (non-blocking; nothing to clear is fine).</summary>
    public void Drain()
    {
        ulong value;
        if (_fd >= 0) Libc.read(_fd, &value, 8);
    }

    public void Dispose()
    {
        var fd = Interlocked.Exchange(ref _fd, -1);
        if (fd >= 0) Libc.close(fd);
    }
}
