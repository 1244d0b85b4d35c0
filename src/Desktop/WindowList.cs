using System.Text;
using Sandbox.Display;
using Sandbox.Native;

namespace Sandbox.Desktop;

/// <summary>A rectangle in screen (root window) pixels.</summary>
internal sealed record WindowRect(int X, int Y, int Width, int Height);

/// <summary>One top-level application window as the window manager (or ICCCM) describes it.</summary>
internal sealed record WindowInfo(
    ulong Id,
    string IdHex,
    string? Title,
    string? WmClass,
    string? WmInstance,
    int? Pid,
    bool Active,
    bool Visible,
    bool Minimized,
    IReadOnlyList<string> State,
    int? Desktop,
    WindowRect Geometry,
    WindowRect Frame,
    int Stacking);

internal sealed record WindowListAnswer(bool Ewmh, string? WindowManager, ulong? ActiveId, IReadOnlyList<WindowInfo> Windows);

/// <summary>The atoms the desktop uses, interned once per X session.</summary>
internal sealed class DesktopAtoms : IDisposable
{
    public DesktopAtoms(XSession s)
    {
        nuint A(string n) => Atom(s, n);
        ClientListStacking = A("_NET_CLIENT_LIST_STACKING");
        ClientList = A("_NET_CLIENT_LIST");
        ActiveWindow = A("_NET_ACTIVE_WINDOW");
        WmName = A("_NET_WM_NAME");
        Utf8String = A("UTF8_STRING");
        WmPid = A("_NET_WM_PID");
        WmState = A("_NET_WM_STATE");
        FrameExtents = A("_NET_FRAME_EXTENTS");
        SupportingWmCheck = A("_NET_SUPPORTING_WM_CHECK");
        WmDesktop = A("_NET_WM_DESKTOP");
        CloseWindow = A("_NET_CLOSE_WINDOW");
        MoveResizeWindow = A("_NET_MOVERESIZE_WINDOW");
        MaximizedVert = A("_NET_WM_STATE_MAXIMIZED_VERT");
        MaximizedHorz = A("_NET_WM_STATE_MAXIMIZED_HORZ");
        Fullscreen = A("_NET_WM_STATE_FULLSCREEN");
        Hidden = A("_NET_WM_STATE_HIDDEN");
        IcccmWmState = A("WM_STATE");
        WmChangeState = A("WM_CHANGE_STATE");
        WmProtocols = A("WM_PROTOCOLS");
        WmDeleteWindow = A("WM_DELETE_WINDOW");
        CurrentDesktop = A("_NET_CURRENT_DESKTOP");
    }

    public nuint ClientListStacking, ClientList, ActiveWindow, WmName, Utf8String, WmPid, WmState, FrameExtents,
        SupportingWmCheck, WmDesktop, CloseWindow, MoveResizeWindow, MaximizedVert, MaximizedHorz, Fullscreen, Hidden,
        IcccmWmState, WmChangeState, WmProtocols, WmDeleteWindow, CurrentDesktop;

    private readonly Dictionary<nuint, string> _names = [];

    public static unsafe nuint Atom(XSession s, string name)
    {
        var bytes = Encoding.UTF8.GetBytes(name + "\0");
        fixed (byte* p = bytes) return Xlib.XInternAtom(s.Handle, p, 0);
    }

    public unsafe string Name(XSession s, nuint atom)
    {
        if (_names.TryGetValue(atom, out var n)) return n;
        var p = Xlib.XGetAtomName(s.Handle, atom);
        if (p is null) return "";
        try { n = Marshal_PtrToUtf8(p); }
        finally { Xlib.XFree(p); }
        _names[atom] = n;
        return n;
    }

    private static unsafe string Marshal_PtrToUtf8(byte* p) => System.Runtime.InteropServices.Marshal.PtrToStringUTF8((nint)p) ?? "";

    public void Dispose() { }
}

/// <summary>Reads window properties; every read is one round trip.</summary>
internal static unsafe class WindowProps
{
    /// <summary>The property's raw items: bytes for format 8, C longs (as ulong) for format 32; null when absent.</summary>
    public static (nuint Type, int Format, byte[] Data)? Read(XSession s, nuint window, nuint property, nuint type = 0, int maxLongs = 1 << 16)
    {
        nuint actual, items, after;
        int format;
        byte* p;
        if (Xlib.XGetWindowProperty(s.Handle, window, property, 0, maxLongs, 0, type, &actual, &format, &items, &after, &p) != Xlib.Success)
            return null;
        try
        {
            if (actual == 0 || p is null) return null;
            var unit = format switch { 8 => 1, 16 => 2, 32 => sizeof(nint), _ => 0 };
            return (actual, format, new ReadOnlySpan<byte>(p, (int)items * unit).ToArray());
        }
        finally
        {
            if (p is not null) Xlib.XFree(p);
        }
    }

    public static ulong[] Longs(XSession s, nuint window, nuint property, nuint type = 0)
    {
        if (Read(s, window, property, type) is not { Format: 32 } r) return [];
        var result = new ulong[r.Data.Length / 8];
        Buffer.BlockCopy(r.Data, 0, result, 0, result.Length * 8);
        return result;
    }

    public static ulong? Long(XSession s, nuint window, nuint property, nuint type = 0) =>
        Longs(s, window, property, type) is { Length: > 0 } v ? v[0] : null;

    public static string? Text(XSession s, nuint window, nuint property, nuint utf8Type)
    {
        if (Read(s, window, property) is not { Format: 8 } r) return null;
        var span = r.Data.AsSpan();
        while (span.Length > 0 && span[^1] == 0) span = span[..^1];
        return r.Type == Xlib.XA_STRING ? Encoding.Latin1.GetString(span) : Encoding.UTF8.GetString(span);
    }
}
