using System.Runtime.InteropServices;

namespace Sandbox.Native;

// Reading the root window's AT_SPI_BUS property (the accessibility bus address a desktop publishes).
internal static unsafe partial class Xlib
{
    public const nuint AnyPropertyType = 0;

    [LibraryImport(Libraries.X11)]
    public static partial nuint XInternAtom(nint display, byte* atomName, int onlyIfExists);

    [LibraryImport(Libraries.X11)]
    public static partial int XGetWindowProperty(nint display, nuint window, nuint property, nint longOffset, nint longLength,
        int delete, nuint reqType, nuint* actualType, int* actualFormat, nuint* nitems, nuint* bytesAfter, byte** prop);
}
