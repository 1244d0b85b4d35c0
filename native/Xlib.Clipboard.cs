using System.Runtime.InteropServices;

namespace Sandbox.Native;

// Atoms, properties, selections, plain windows and sent events: what the clipboard owner and the
// desktop's window list need beyond the capture/input bindings.
internal static unsafe partial class Xlib
{
    public const int PropertyNotify = 28;
    public const int SelectionClear = 29;
    public const int SelectionRequest = 30;
    public const int SelectionNotify = 31;
    public const int ClientMessage = 33;

    public const nint PropertyChangeMask = 1 << 22;
    public const nint StructureNotifyMask = 1 << 17;
    public const nint SubstructureNotifyMask = 1 << 19;
    public const nint SubstructureRedirectMask = 1 << 20;

    public const int PropModeReplace = 0;
    public const int PropModeAppend = 2;
    public const int PropertyNewValue = 0;
    public const int PropertyDelete = 1;
    public const int Success = 0;
    /// <summary>AnyPropertyType for XGetWindowProperty.</summary>
    public const nuint AnyPropertyType = 0;
    public const nuint XA_ATOM = 4;
    public const nuint XA_CARDINAL = 6;
    public const nuint XA_STRING = 31;
    public const nuint XA_WINDOW = 33;
    public const nuint XA_WM_NAME = 39;
    public const nuint XA_WM_CLASS = 67;

    [LibraryImport(Libraries.X11)]
    public static partial nuint XInternAtom(nint display, byte* name, int onlyIfExists);

    [LibraryImport(Libraries.X11)]
    public static partial byte* XGetAtomName(nint display, nuint atom);

    [LibraryImport(Libraries.X11)]
    public static partial nuint XCreateSimpleWindow(nint display, nuint parent, int x, int y, uint width, uint height,
        uint borderWidth, nuint border, nuint background);

    [LibraryImport(Libraries.X11)]
    public static partial int XDestroyWindow(nint display, nuint window);

    [LibraryImport(Libraries.X11)]
    public static partial int XSelectInput(nint display, nuint window, nint eventMask);

    [LibraryImport(Libraries.X11)]
    public static partial int XSetSelectionOwner(nint display, nuint selection, nuint owner, nuint time);

    [LibraryImport(Libraries.X11)]
    public static partial nuint XGetSelectionOwner(nint display, nuint selection);

    [LibraryImport(Libraries.X11)]
    public static partial int XConvertSelection(nint display, nuint selection, nuint target, nuint property, nuint requestor, nuint time);

    /// <summary>Format-32 data is an array of C longs (8 bytes each on LP64), whatever the format says.</summary>
    [LibraryImport(Libraries.X11)]
    public static partial int XChangeProperty(nint display, nuint window, nuint property, nuint type, int format, int mode,
        byte* data, int elements);

    /// <summary>Offset and length in 32-bit units; the returned data is freed with XFree.</summary>
    [LibraryImport(Libraries.X11)]
    public static partial int XGetWindowProperty(nint display, nuint window, nuint property, nint longOffset, nint longLength,
        int delete, nuint requestedType, nuint* actualType, int* actualFormat, nuint* items, nuint* bytesAfter, byte** data);

    [LibraryImport(Libraries.X11)]
    public static partial int XDeleteProperty(nint display, nuint window, nuint property);

    [LibraryImport(Libraries.X11)]
    public static partial int XSendEvent(nint display, nuint window, int propagate, nint eventMask, XEvent* e);

    /// <summary>The largest request in 4-byte units without BIG-REQUESTS.</summary>
    [LibraryImport(Libraries.X11)]
    public static partial nint XMaxRequestSize(nint display);

    /// <summary>The largest request in 4-byte units with BIG-REQUESTS, 0 when the server lacks it.</summary>
    [LibraryImport(Libraries.X11)]
    public static partial nint XExtendedMaxRequestSize(nint display);
}

[StructLayout(LayoutKind.Sequential, Size = 24 * 8)]
internal struct XSelectionRequestEvent
{
    public int Type;
    public nuint Serial;
    public int SendEvent;
    public nint Display;
    public nuint Owner, Requestor, Selection, Target, Property, Time;
}

[StructLayout(LayoutKind.Sequential, Size = 24 * 8)]
internal struct XSelectionEvent
{
    public int Type;
    public nuint Serial;
    public int SendEvent;
    public nint Display;
    public nuint Requestor, Selection, Target, Property, Time;
}

[StructLayout(LayoutKind.Sequential, Size = 24 * 8)]
internal struct XSelectionClearEvent
{
    public int Type;
    public nuint Serial;
    public int SendEvent;
    public nint Display;
    public nuint Window, Selection, Time;
}

[StructLayout(LayoutKind.Sequential, Size = 24 * 8)]
internal struct XPropertyEvent
{
    public int Type;
    public nuint Serial;
    public int SendEvent;
    public nint Display;
    public nuint Window, Atom, Time;
    public int State;
}

[StructLayout(LayoutKind.Sequential, Size = 24 * 8)]
internal struct XClientMessageEvent
{
    public int Type;
    public nuint Serial;
    public int SendEvent;
    public nint Display;
    public nuint Window, MessageType;
    public int Format;
    public nint D0, D1, D2, D3, D4;
}
