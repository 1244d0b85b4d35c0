using System.Runtime.InteropServices;

namespace Sandbox.Native;

// Core Xlib. X's "unsigned long" (XID, Window, masks) is 64-bit on LP64 and maps to nuint; Bool is int.
internal static unsafe partial class Xlib
{
    public const int ZPixmap = 2;
    public const int LSBFirst = 0;
    public static readonly nuint AllPlanes = nuint.MaxValue;

    [LibraryImport(Libraries.X11)]
    public static partial int XInitThreads();

    [LibraryImport(Libraries.X11)]
    public static partial nint XOpenDisplay(byte* displayName);

    [LibraryImport(Libraries.X11)]
    public static partial int XCloseDisplay(nint display);

    [LibraryImport(Libraries.X11)]
    public static partial int XDefaultScreen(nint display);

    [LibraryImport(Libraries.X11)]
    public static partial nuint XRootWindow(nint display, int screen);

    [LibraryImport(Libraries.X11)]
    public static partial nint XDefaultVisual(nint display, int screen);

    [LibraryImport(Libraries.X11)]
    public static partial int XDefaultDepth(nint display, int screen);

    [LibraryImport(Libraries.X11)]
    public static partial int XGetWindowAttributes(nint display, nuint window, XWindowAttributes* attributes);

    [LibraryImport(Libraries.X11)]
    public static partial XImage* XGetImage(nint display, nuint drawable, int x, int y, uint width, uint height, nuint planeMask, int format);

    [LibraryImport(Libraries.X11)]
    public static partial int XQueryPointer(nint display, nuint window, nuint* rootReturn, nuint* childReturn,
        int* rootX, int* rootY, int* winX, int* winY, uint* mask);

    [LibraryImport(Libraries.X11)]
    public static partial int XFree(void* data);

    [LibraryImport(Libraries.X11)]
    public static partial int XSync(nint display, int discard);

    [LibraryImport(Libraries.X11)]
    public static partial int XFlush(nint display);

    [LibraryImport(Libraries.X11)]
    public static partial int XConnectionNumber(nint display);

    [LibraryImport(Libraries.X11)]
    public static partial int XQueryExtension(nint display, byte* name, int* majorOpcode, int* firstEvent, int* firstError);

    [LibraryImport(Libraries.X11)]
    public static partial nint XSetErrorHandler(delegate* unmanaged<nint, XErrorEvent*, int> handler);

    [LibraryImport(Libraries.X11)]
    public static partial nint XSetIOErrorHandler(delegate* unmanaged<nint, int> handler);

    /// <summary>libX11 ≥ 1.7: called after the IO error handler; returning from it keeps the process alive.</summary>
    [LibraryImport(Libraries.X11)]
    public static partial void XSetIOErrorExitHandler(nint display, delegate* unmanaged<nint, nint, void> handler, nint userData);

    [LibraryImport(Libraries.X11)]
    public static partial int XGetErrorText(nint display, int code, byte* buffer, int length);

    /// <summary>XDestroyImage is a macro over the image's own destroy function; call that pointer.</summary>
    public static void DestroyImage(XImage* image)
    {
        if (image != null) ((delegate* unmanaged<XImage*, int>)image->DestroyImage)(image);
    }
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct XImage
{
    public int Width, Height, XOffset, Format;
    public byte* Data;
    public int ByteOrder, BitmapUnit, BitmapBitOrder, BitmapPad, Depth, BytesPerLine, BitsPerPixel;
    public nuint RedMask, GreenMask, BlueMask;
    public nint ObData;
    public nint CreateImage, DestroyImage, GetPixel, PutPixel, SubImage, AddPixel;
}

[StructLayout(LayoutKind.Sequential)]
internal struct XErrorEvent
{
    public int Type;
    public nint Display;
    public nuint ResourceId;
    public nuint Serial;
    public byte ErrorCode, RequestCode, MinorCode;
}

[StructLayout(LayoutKind.Sequential)]
internal struct XWindowAttributes
{
    public int X, Y, Width, Height, BorderWidth, Depth;
    public nint Visual;
    public nuint Root;
    public int Class, BitGravity, WinGravity, BackingStore;
    public nuint BackingPlanes, BackingPixel;
    public int SaveUnder;
    public nuint Colormap;
    public int MapInstalled, MapState;
    public nint AllEventMasks, YourEventMask, DoNotPropagateMask;
    public int OverrideRedirect;
    public nint Screen;
}
