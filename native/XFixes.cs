using System.Runtime.InteropServices;

namespace Sandbox.Native;

/// <summary>XFixes: the current cursor image, which core X does not expose, and cursor-change notification.</summary>
internal static unsafe partial class XFixes
{
    public const int DisplayCursorNotifyMask = 1;
    /// <summary>XFixesCursorNotify, relative to the XFixes event base.</summary>
    public const int CursorNotify = 1;

    [LibraryImport(Libraries.Xfixes)]
    public static partial void XFixesSelectCursorInput(nint display, nuint window, nuint eventMask);

    [LibraryImport(Libraries.Xfixes)]
    public static partial int XFixesQueryExtension(nint display, int* eventBase, int* errorBase);

    [LibraryImport(Libraries.Xfixes)]
    public static partial int XFixesQueryVersion(nint display, int* major, int* minor);

    /// <summary>Free the result with <see cref="Xlib.XFree"/>. Pixels are premultiplied ARGB, one C long each.</summary>
    [LibraryImport(Libraries.Xfixes)]
    public static partial XFixesCursorImage* XFixesGetCursorImage(nint display);
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct XFixesCursorImage
{
    public short X, Y;
    public ushort Width, Height, XHot, YHot;
    public nuint CursorSerial;
    public nuint* Pixels;
    public nuint Atom;
    public byte* Name;
}
