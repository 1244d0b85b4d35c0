using System.Runtime.InteropServices;

namespace Sandbox.Native;

/// <summary>MIT-SHM from libXext: the server writes captured pixels straight into our shared memory.</summary>
internal static unsafe partial class XShm
{
    [LibraryImport(Libraries.Xext)]
    public static partial int XShmQueryExtension(nint display);

    [LibraryImport(Libraries.Xext)]
    public static partial XImage* XShmCreateImage(nint display, nint visual, uint depth, int format, byte* data,
        XShmSegmentInfo* shminfo, uint width, uint height);

    [LibraryImport(Libraries.Xext)]
    public static partial int XShmAttach(nint display, XShmSegmentInfo* shminfo);

    [LibraryImport(Libraries.Xext)]
    public static partial int XShmDetach(nint display, XShmSegmentInfo* shminfo);

    [LibraryImport(Libraries.Xext)]
    public static partial int XShmGetImage(nint display, nuint drawable, XImage* image, int x, int y, nuint planeMask);
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct XShmSegmentInfo
{
    public nuint ShmSeg;
    public int ShmId;
    public byte* ShmAddr;
    public int ReadOnly;
}
