using System.Runtime.InteropServices;

namespace Sandbox.Native;

// Window tree, geometry and window-manager requests, for the desktop's window list and actions.
internal static unsafe partial class Xlib
{
    public const int IsViewable = 2;

    [LibraryImport(Libraries.X11)]
    public static partial int XQueryTree(nint display, nuint window, nuint* root, nuint* parent, nuint** children, uint* count);

    [LibraryImport(Libraries.X11)]
    public static partial int XTranslateCoordinates(nint display, nuint src, nuint dest, int srcX, int srcY,
        int* destX, int* destY, nuint* child);

    [LibraryImport(Libraries.X11)]
    public static partial int XMoveResizeWindow(nint display, nuint window, int x, int y, uint width, uint height);

    [LibraryImport(Libraries.X11)]
    public static partial int XRaiseWindow(nint display, nuint window);

    [LibraryImport(Libraries.X11)]
    public static partial int XMapRaised(nint display, nuint window);

    [LibraryImport(Libraries.X11)]
    public static partial int XSetInputFocus(nint display, nuint window, int revertTo, nuint time);

    [LibraryImport(Libraries.X11)]
    public static partial int XKillClient(nint display, nuint resource);
}
