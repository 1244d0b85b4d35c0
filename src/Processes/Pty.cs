using System.Runtime.InteropServices;
using Sandbox.Common;
using Sandbox.Native;

namespace Sandbox.Processes;

/// <summary>
/// The master side of a pseudo-terminal (posix_openpt, grantpt, unlockpt, ptsname_r). The child opens the
/// slave by its path after setsid (see <see cref="ChildStart.Tty"/>), which makes it its controlling
/// terminal. Reads block on a thread of their own; EIO means every slave descriptor is closed.
/// </summary>
internal sealed unsafe class Pty : IDisposable
{
    private int _master;

    private Pty(int master, string slave)
    {
        _master = master;
        SlavePath = slave;
    }

    public string SlavePath { get; }

    public static Pty Open(int cols, int rows)
    {
        var fd = Libc.posix_openpt(LibcPty.O_RDWR | LibcPty.O_NOCTTY | LibcPty.O_CLOEXEC);
        if (fd < 0) throw SandboxException.Unavailable($"posix_openpt failed (errno {Marshal.GetLastPInvokeError()})");
        try
        {
            if (Libc.grantpt(fd) != 0) throw SandboxException.Unavailable($"grantpt failed (errno {Marshal.GetLastPInvokeError()})");
            if (Libc.unlockpt(fd) != 0) throw SandboxException.Unavailable($"unlockpt failed (errno {Marshal.GetLastPInvokeError()})");
            var name = stackalloc byte[256];
            var rc = Libc.ptsname_r(fd, name, 256);
            if (rc != 0) throw SandboxException.Unavailable($"ptsname_r failed (error {rc})");
            var pty = new Pty(fd, Marshal.PtrToStringUTF8((nint)name)!);
            pty.Resize(cols, rows);
            return pty;
        }
        catch
        {
            Libc.close(fd);
            throw;
        }
    }

    public void Resize(int cols, int rows)
    {
        if (cols is < 1 or > 10_000 || rows is < 1 or > 10_000) throw SandboxException.BadField("pty", "cols and rows must be 1 to 10000");
        var size = new WinSize { Cols = (ushort)cols, Rows = (ushort)rows };
        if (Volatile.Read(ref _master) < 0) return;
        Libc.IoctlPtr(_master, LibcPty.TIOCSWINSZ, &size);
    }

    /// <summary>Blocking read; 0 at the end (EIO once the child side is closed) or once <paramref name="stop"/> is set.</summary>
    public int Read(Span<byte> buffer, CancellationToken stop)
    {
        while (true)
        {
            var fd = Volatile.Read(ref _master);
            if (fd < 0 || stop.IsCancellationRequested) return 0;
            // Poll with a timeout so a reader can be told to stop while a leftover job holds the terminal open.
            var pfd = new PollFd { Fd = fd, Events = Libc.POLLIN };
            var ready = Libc.poll(&pfd, 1, 250);
            if (ready == 0) continue;
            if (ready < 0) { if (Marshal.GetLastPInvokeError() == (int)Errno.EINTR) continue; return 0; }
            nint n;
            fixed (byte* p = buffer) n = Libc.ReadFd(fd, p, (nuint)buffer.Length);
            if (n >= 0) return (int)n;
            var errno = Marshal.GetLastPInvokeError();
            if (errno == (int)Errno.EINTR) continue;
            return 0;
        }
    }

    public void Write(ReadOnlySpan<byte> data)
    {
        while (data.Length > 0)
        {
            var fd = Volatile.Read(ref _master);
            if (fd < 0) throw SandboxException.Conflict("the terminal is closed");
            nint n;
            fixed (byte* p = data) n = Libc.write(fd, p, (nuint)data.Length);
            if (n < 0)
            {
                if (Marshal.GetLastPInvokeError() == (int)Errno.EINTR) continue;
                throw SandboxException.Conflict("the terminal is closed");
            }
            data = data[(int)n..];
        }
    }

    public void Dispose()
    {
        var fd = Interlocked.Exchange(ref _master, -1);
        if (fd >= 0) Libc.close(fd);
    }
}
