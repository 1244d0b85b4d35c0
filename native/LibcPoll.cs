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

    [LibraryImport(Libraries.Libc, SetLastError = true)]
    public static partial int poll(PollFd* fds, nuint count, int timeoutMs);

    [LibraryImport(Libraries.Libc, SetLastError = true)]
    public static partial int eventfd(uint initialValue, int flags);
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
    private readonly SafeFd _fd;

    public EventFd()
    {
        var fd = Libc.eventfd(0, Libc.EFD_CLOEXEC | Libc.EFD_NONBLOCK);
        if (fd < 0) throw NativeCallException.FromLastError("eventfd");
        _fd = new SafeFd(fd);
    }

    /// <summary>The descriptor to poll; the owner keeps the EventFd alive (undisposed) while it polls.</summary>
    public int Fd => _fd.IsClosed ? -1 : (int)_fd.DangerousGetHandle();

    public void Ring()
    {
        ulong one = 1;
        using var fd = _fd.Acquire();
        if (fd.IsOpen) Libc.write(fd.Fd, &one, 8);
    }

    /// <summary>Clears the counter (non-blocking; nothing to clear is fine).</summary>
    public void Drain()
    {
        ulong value;
        using var fd = _fd.Acquire();
        if (fd.IsOpen) Libc.read(fd.Fd, &value, 8);
    }

    public void Dispose() => _fd.Dispose();
}
