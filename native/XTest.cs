using System.Runtime.InteropServices;

namespace Sandbox.Native;

/// <summary>
/// XTEST from libXtst: synthetic input that the server treats like the real devices (the pointer
/// moves, grabs and focus apply), unlike XSendEvent, which clients can tell apart and often ignore.
/// A delay of 0 (CurrentTime) means "now".
/// </summary>
internal static unsafe partial class XTest
{
    [LibraryImport(Libraries.Xtst)]
    public static partial int XTestQueryExtension(nint display, int* eventBase, int* errorBase, int* major, int* minor);

    /// <summary>Screen -1 is the screen the pointer is on.</summary>
    [LibraryImport(Libraries.Xtst)]
    public static partial int XTestFakeMotionEvent(nint display, int screen, int x, int y, nuint delay);

    [LibraryImport(Libraries.Xtst)]
    public static partial int XTestFakeButtonEvent(nint display, uint button, int isPress, nuint delay);

    [LibraryImport(Libraries.Xtst)]
    public static partial int XTestFakeKeyEvent(nint display, uint keycode, int isPress, nuint delay);

    /// <summary>With impervious = true our requests are still processed while another client grabs the server.</summary>
    [LibraryImport(Libraries.Xtst)]
    public static partial int XTestGrabControl(nint display, int impervious);
}
