using Microsoft.Win32.SafeHandles;

namespace Sandbox.Native;

/// <summary>
/// An owned file descriptor: closed exactly once, by <see cref="SafeHandle.Dispose()"/> or the finalizer,
/// and never while a <see cref="Lease"/> on it is open, so a descriptor number cannot be closed under a
/// call on another thread and reused by an unrelated open in between.
/// </summary>
internal sealed class SafeFd : SafeHandleMinusOneIsInvalid
{
    public SafeFd() : base(ownsHandle: true) { }

    /// <summary>Takes ownership of <paramref name="fd"/> (−1 makes an invalid handle).</summary>
    public SafeFd(int fd) : base(ownsHandle: true) => SetHandle(fd);

    protected override bool ReleaseHandle() => Libc.close((int)handle) == 0;

    /// <summary>The descriptor, kept open until the lease is disposed; <see cref="Lease.IsOpen"/> is false once the handle is closed.</summary>
    public Lease Acquire()
    {
        var added = false;
        try
        {
            DangerousAddRef(ref added);
        }
        catch (ObjectDisposedException)
        {
            // Closed already: the lease says so.
        }
        return new Lease(this, added);
    }

    public readonly ref struct Lease
    {
        private readonly SafeFd _owner;
        private readonly bool _added;

        internal Lease(SafeFd owner, bool added)
        {
            _owner = owner;
            _added = added;
        }

        public bool IsOpen => _added && !_owner.IsInvalid;

        /// <summary>The raw descriptor; only meaningful while <see cref="IsOpen"/>.</summary>
        public int Fd => _added ? (int)_owner.DangerousGetHandle() : -1;

        public void Dispose()
        {
            if (_added) _owner.DangerousRelease();
        }
    }
}
