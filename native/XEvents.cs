using System.Runtime.InteropServices;

namespace Sandbox.Native;

// Event queue access (the live view reads DAMAGE and cursor events from its connection).
internal static unsafe partial class Xlib
{
    [LibraryImport(Libraries.X11)]
    public static partial int XPending(nint display);

    [LibraryImport(Libraries.X11)]
    public static partial int XNextEvent(nint display, XEvent* e);
}

/// <summary>Xlib's XEvent union: 24 longs; only the leading type is read here.</summary>
[StructLayout(LayoutKind.Sequential, Size = 24 * 8)]
internal struct XEvent
{
    public int Type;
}
