using System.Runtime.InteropServices;

namespace Sandbox.Native;

// XGetGeometry: a drawable's size in one round trip (XGetWindowAttributes costs two: GetWindowAttributes
// and GetGeometry), for the screen size read before every action batch and by the health probe.
internal static unsafe partial class Xlib
{
    [LibraryImport(Libraries.X11)]
    public static partial int XGetGeometry(nint display, nuint drawable, nuint* root, int* x, int* y,
        uint* width, uint* height, uint* borderWidth, uint* depth);
}
