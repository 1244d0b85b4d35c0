using System.Runtime.InteropServices;

namespace Sandbox.Native;

/// <summary>
/// The TurboJPEG 2.x API of libjpeg-turbo (<c>turbojpeg.h</c>). Handles are opaque pointers; the
/// output buffer is ours (<see cref="FlagNoRealloc"/>), sized with <see cref="tjBufSize"/>.
/// </summary>
internal static unsafe partial class TurboJpeg
{
    /// <summary>TJPF_BGRX: B,G,R,X bytes, the layout of an X11 TrueColor ZPixmap on little-endian machines.</summary>
    public const int PixelFormatBgrx = 3;
    public const int Subsampling444 = 0;
    public const int Subsampling420 = 2;
    public const int FlagNoRealloc = 1024;
    public const int FlagFastDct = 2048;

    [LibraryImport(Libraries.TurboJpeg)]
    public static partial nint tjInitCompress();

    /// <summary>
    /// <paramref name="jpegSize"/> is a C <c>unsigned long</c>: in, the buffer's size; out, the JPEG's length.
    /// Returns 0 on success, -1 on error (<see cref="tjGetErrorStr2"/>).
    /// </summary>
    [LibraryImport(Libraries.TurboJpeg)]
    public static partial int tjCompress2(nint handle, byte* srcBuf, int width, int pitch, int height, int pixelFormat,
        byte** jpegBuf, nuint* jpegSize, int jpegSubsamp, int jpegQual, int flags);

    /// <summary>The worst-case JPEG size for the given dimensions and subsampling.</summary>
    [LibraryImport(Libraries.TurboJpeg)]
    public static partial nuint tjBufSize(int width, int height, int jpegSubsamp);

    [LibraryImport(Libraries.TurboJpeg)]
    public static partial byte* tjGetErrorStr2(nint handle);

    [LibraryImport(Libraries.TurboJpeg)]
    public static partial int tjDestroy(nint handle);
}

/// <summary>A TurboJPEG compressor handle: destroyed exactly once, never while a call on it is running.</summary>
internal sealed class SafeTurboJpegHandle : Microsoft.Win32.SafeHandles.SafeHandleZeroOrMinusOneIsInvalid
{
    public SafeTurboJpegHandle() : base(ownsHandle: true) { }

    public SafeTurboJpegHandle(nint handle) : base(ownsHandle: true) => SetHandle(handle);

    protected override bool ReleaseHandle() => TurboJpeg.tjDestroy(handle) == 0;
}
