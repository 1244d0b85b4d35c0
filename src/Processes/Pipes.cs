using System.IO.Pipes;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using Sandbox.Common;
using Sandbox.Native;

namespace Sandbox.Processes;

/// <summary>
/// A pipe for one of a child's standard streams. Both ends are O_CLOEXEC, so a concurrent spawn never
/// inherits them (posix_spawn's dup2 clears the flag on the child's copy); the parent closes the child's end
/// right after the spawn, or it would never see end-of-file.
/// </summary>
internal sealed unsafe class Pipe : IDisposable
{
    private int _childEnd;
    private readonly int _parentEnd;
    private bool _parentTaken;

    private Pipe(int childEnd, int parentEnd)
    {
        _childEnd = childEnd;
        _parentEnd = parentEnd;
    }

    /// <summary>Our end, for reading it in place before (or instead of) <see cref="TakeParentStream"/>.</summary>
    public int ParentFd => _parentEnd;

    /// <summary>The descriptor the child gets (dup2'ed onto 0, 1 or 2).</summary>
    public int ChildFd => _childEnd;

    /// <summary>A pipe whose read end is ours (the child writes: stdout, stderr).</summary>
    public static Pipe ForOutput() => Create(childReads: false);

    /// <summary>A pipe whose write end is ours (the child reads: stdin).</summary>
    public static Pipe ForInput() => Create(childReads: true);

    private static Pipe Create(bool childReads)
    {
        int* fds = stackalloc int[2];
        if (Libc.pipe2(fds, LibcPty.O_CLOEXEC) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            // EMFILE/ENFILE: out of descriptors; a limit, not the client's fault.
            throw SandboxException.Busy($"cannot create a pipe (errno {errno}): too many open files");
        }
        return childReads ? new Pipe(fds[0], fds[1]) : new Pipe(fds[1], fds[0]);
    }

    /// <summary>Closes the child's end in this process (after the spawn).</summary>
    public void CloseChildEnd()
    {
        if (_childEnd < 0) return;
        Libc.close(_childEnd);
        _childEnd = -1;
    }

    /// <summary>Our end as a stream (asynchronous through the runtime's epoll); the stream owns it.</summary>
    public Stream TakeParentStream(PipeDirection direction)
    {
        _parentTaken = true;
        return new AnonymousPipeClientStream(direction, new SafePipeHandle(_parentEnd, ownsHandle: true));
    }

    public void Dispose()
    {
        CloseChildEnd();
        if (!_parentTaken) { Libc.close(_parentEnd); _parentTaken = true; }
    }
}
