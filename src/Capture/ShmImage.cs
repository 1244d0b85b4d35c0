using Sandbox.Display;
using Sandbox.Native;

namespace Sandbox.Capture;

/// <summary>
/// One shared-memory XImage of screen size, reused for every capture on its session.
/// Teardown order: detach from the server (if it is still there), destroy the XImage header
/// (its data pointer is cleared first, so Xlib does not free our segment), then shmdt. The segment
/// was marked IPC_RMID right after both sides attached, so it cannot outlive the process.
/// </summary>
internal sealed unsafe class ShmImage : IDisposable
{
    private readonly XSession _session;
    private XShmSegmentInfo* _info;
    private XImage* _image;

    private ShmImage(XSession session, XImage* image, XShmSegmentInfo* info)
    {
        _session = session;
        _image = image;
        _info = info;
        Width = image->Width;
        Height = image->Height;
    }

    public int Width { get; }
    public int Height { get; }
    public XImage* Image => _image;

    /// <summary>Creates and attaches a segment, or returns null when the server refuses MIT-SHM (remote display).</summary>
    public static ShmImage? TryCreate(XSession s, int width, int height, out string? why)
    {
        why = null;
        var info = (XShmSegmentInfo*)NativeMemoryZeroed();
        var image = XShm.XShmCreateImage(s.Handle, s.Visual, (uint)s.Depth, Xlib.ZPixmap, null, info, (uint)width, (uint)height);
        if (image == null)
        {
            System.Runtime.InteropServices.NativeMemory.Free(info);
            why = "XShmCreateImage failed";
            return null;
        }
        var size = (nuint)((long)image->BytesPerLine * image->Height);
        info->ShmId = Libc.shmget(Libc.IPC_PRIVATE, size, Libc.IPC_CREAT | 0x180 /* 0600 */);
        if (info->ShmId < 0)
        {
            why = NativeCallException.FromLastError("shmget").Message;
            FreeHeader(image, info);
            return null;
        }
        var addr = Libc.shmat(info->ShmId, null, 0);
        if (addr == (void*)-1)
        {
            why = NativeCallException.FromLastError("shmat").Message;
            Libc.shmctl(info->ShmId, Libc.IPC_RMID, null);
            FreeHeader(image, info);
            return null;
        }
        info->ShmAddr = (byte*)addr;
        image->Data = (byte*)addr;
        info->ReadOnly = 0;

        var attached = XShm.XShmAttach(s.Handle, info) != 0;
        var error = s.SyncAndTakeError();  // the server attaches asynchronously; a refusal arrives as an X error
        // Both sides hold the segment now (or never will): removing the id makes the kernel free it
        // when the last attachment goes, even if we are killed.
        Libc.shmctl(info->ShmId, Libc.IPC_RMID, null);
        if (!attached || error is not null)
        {
            why = error is { } e ? $"XShmAttach refused: {e.Text}" : "XShmAttach failed";
            Libc.shmdt(addr);
            FreeHeader(image, info);
            return null;
        }
        return new ShmImage(s, image, info);
    }

    /// <summary>Fills the image from the root window; false on an X error (e.g. a size change in flight).</summary>
    public bool Grab()
    {
        var ok = XShm.XShmGetImage(_session.Handle, _session.Root, _image, 0, 0, Xlib.AllPlanes) != 0;
        return ok;
    }

    public void Dispose()
    {
        if (_image == null) return;
        if (!_session.Broken)
        {
            XShm.XShmDetach(_session.Handle, _info);
            Xlib.XSync(_session.Handle, 0);
        }
        var addr = _info->ShmAddr;
        FreeHeader(_image, _info);
        Libc.shmdt(addr);
        _image = null;
        _info = null;
    }

    private static void FreeHeader(XImage* image, XShmSegmentInfo* info)
    {
        image->Data = null;
        Xlib.DestroyImage(image);
        System.Runtime.InteropServices.NativeMemory.Free(info);
    }

    private static void* NativeMemoryZeroed() =>
        System.Runtime.InteropServices.NativeMemory.AllocZeroed((nuint)sizeof(XShmSegmentInfo));
}
