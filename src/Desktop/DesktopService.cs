using Sandbox.Common;
using Sandbox.Display;
using Sandbox.Native;

namespace Sandbox.Desktop;

/// <summary>What a window action asks the window manager for.</summary>
internal enum WindowAction { Activate, Close, Minimize, Maximize, Restore, Fullscreen, Move, Resize }

internal sealed record WindowActionAnswer(ulong Id, string Action, string Via);

/// <summary>
/// Top-level windows: listed from EWMH (<c>_NET_CLIENT_LIST_STACKING</c> and friends) when a window manager
/// publishes it, else from the window tree (ICCCM <c>WM_STATE</c>, or mapped top-level windows when no
/// window manager runs); acted on with EWMH client messages, or plain requests without one. Its own X
/// connection; every call is a handful of round trips under the connection's gate.
/// </summary>
internal sealed unsafe class DesktopService(XDisplayConnection x, DesktopOptions options) : IDisposable
{
    public DesktopOptions Options => options;

    public WindowListAnswer List() => x.Run(ListOn, options.DisplayTimeoutMs);

    public WindowInfo Active()
    {
        var list = List();
        return list.Windows.FirstOrDefault(w => w.Active)
            ?? throw SandboxException.NotFound(list.ActiveId is { } id and not 0
                ? $"the active window 0x{id:x} is not an application window" : "no window is active");
    }

    public WindowInfo Get(ulong id) => List().Windows.FirstOrDefault(w => w.Id == id)
        ?? throw SandboxException.NotFound($"no application window 0x{id:x}");

    private WindowListAnswer ListOn(XSession s)
    {
        var a = s.GetOrAttach("desktop-atoms", static session => new DesktopAtoms(session));
        var ids = WindowProps.Longs(s, s.Root, a.ClientListStacking, Xlib.XA_WINDOW);
        var ewmh = ids.Length > 0 || WindowProps.Read(s, s.Root, a.ClientListStacking) is not null;
        if (!ewmh)
        {
            ids = WindowProps.Longs(s, s.Root, a.ClientList, Xlib.XA_WINDOW);
            ewmh = ids.Length > 0;
        }
        if (!ewmh) ids = IcccmClients(s, a);
        var active = WindowProps.Long(s, s.Root, a.ActiveWindow, Xlib.XA_WINDOW);
        string? wmName = null;
        if (WindowProps.Long(s, s.Root, a.SupportingWmCheck, Xlib.XA_WINDOW) is { } check and not 0)
            wmName = WindowProps.Text(s, (nuint)check, a.WmName, a.Utf8String);
        var windows = new List<WindowInfo>(ids.Length);
        for (var i = 0; i < ids.Length; i++)
        {
            // A window destroyed meanwhile fails its requests (BadWindow, recorded, not thrown) and is skipped.
            var info = Describe(s, a, (nuint)ids[i], i, active, ewmh);
            if (info is not null) windows.Add(info);
        }
        s.SyncAndTakeError();
        return new WindowListAnswer(ewmh, wmName, active is 0 ? null : active, windows);
    }

    /// <summary>Without EWMH: clients in stacking order (bottom first) from the tree, found by WM_STATE.</summary>
    private static ulong[] IcccmClients(XSession s, DesktopAtoms a)
    {
        var result = new List<ulong>();
        foreach (var top in Children(s, s.Root))
        {
            XWindowAttributes attr;
            if (Xlib.XGetWindowAttributes(s.Handle, top, &attr) == 0 || attr.OverrideRedirect != 0) continue;
            if (WindowProps.Read(s, top, a.IcccmWmState) is not null) { result.Add(top); continue; }
            // A reparenting window manager without EWMH: the client is a child of the frame.
            var client = Children(s, top).FirstOrDefault(c => WindowProps.Read(s, c, a.IcccmWmState) is not null);
            if (client != 0) result.Add(client);
            else if (attr.MapState == Xlib.IsViewable) result.Add(top); // no window manager at all
        }
        s.SyncAndTakeError();
        return [.. result];
    }

    private static nuint[] Children(XSession s, nuint window)
    {
        nuint root, parent;
        nuint* children;
        uint count;
        if (Xlib.XQueryTree(s.Handle, window, &root, &parent, &children, &count) == 0) return [];
        try { return children is null ? [] : new ReadOnlySpan<nuint>(children, (int)count).ToArray(); }
        finally { if (children is not null) Xlib.XFree(children); }
    }

    private static WindowInfo? Describe(XSession s, DesktopAtoms a, nuint w, int stacking, ulong? active, bool ewmh)
    {
        XWindowAttributes attr;
        if (Xlib.XGetWindowAttributes(s.Handle, w, &attr) == 0) return null;
        int x, y;
        nuint child;
        if (Xlib.XTranslateCoordinates(s.Handle, w, s.Root, 0, 0, &x, &y, &child) == 0) return null;
        var title = WindowProps.Text(s, w, a.WmName, a.Utf8String) ?? WindowProps.Text(s, w, Xlib.XA_WM_NAME, a.Utf8String);
        // Not cached: a closed client's window ids are handed to the next client that connects.
        string? instance2 = null, cls2 = null;
        if (WindowProps.Read(s, w, Xlib.XA_WM_CLASS) is { Format: 8 } c)
        {
            var parts = System.Text.Encoding.Latin1.GetString(c.Data).Split('\0');
            instance2 = parts.Length > 0 ? parts[0] : null;
            cls2 = parts.Length > 1 ? parts[1] : null;
        }
        var pidValue = WindowProps.Long(s, w, a.WmPid, Xlib.XA_CARDINAL);
        int? pid = pidValue is { } v ? (int)v : null;
        var states = WindowProps.Longs(s, w, a.WmState, Xlib.XA_ATOM)
            .Select(st => a.Name(s, (nuint)st)).Select(n => n.StartsWith("_NET_WM_STATE_", StringComparison.Ordinal) ? n[14..].ToLowerInvariant() : n)
            .ToList();
        // With EWMH, _NET_WM_STATE_HIDDEN says minimized; without it, ICCCM's WM_STATE Iconic (3).
        var minimized = states.Contains("hidden")
            || (!ewmh && WindowProps.Longs(s, w, a.IcccmWmState, a.IcccmWmState) is { Length: > 0 } icccm && icccm[0] == 3);
        var desktop = WindowProps.Long(s, w, a.WmDesktop, Xlib.XA_CARDINAL);
        var ext = WindowProps.Longs(s, w, a.FrameExtents, Xlib.XA_CARDINAL);
        int l = 0, r = 0, t = 0, b = 0;
        if (ext.Length == 4) (l, r, t, b) = ((int)ext[0], (int)ext[1], (int)ext[2], (int)ext[3]);
        var geometry = new WindowRect(x, y, attr.Width, attr.Height);
        var frame = new WindowRect(x - l, y - t, attr.Width + l + r, attr.Height + t + b);
        return new WindowInfo(w, $"0x{(ulong)w:x8}", title, cls2, instance2, pid, active == w,
            attr.MapState == Xlib.IsViewable, minimized, states, desktop is { } d ? (int)(uint)d : null, geometry, frame, stacking);
    }

    public WindowActionAnswer Act(ulong id, WindowAction action, WindowMove? move) => x.Run(s =>
    {
        var a = s.GetOrAttach("desktop-atoms", static session => new DesktopAtoms(session));
        var w = (nuint)id;
        XWindowAttributes attr;
        var found = Xlib.XGetWindowAttributes(s.Handle, w, &attr) != 0;
        if (s.SyncAndTakeError() is not null || !found) throw SandboxException.NotFound($"no window 0x{id:x}");
        var ewmh = WindowProps.Read(s, s.Root, a.SupportingWmCheck) is not null;
        string via;
        switch (action)
        {
            case WindowAction.Activate when ewmh:
                // Source 2 (a pager / tool acting for the user): window managers honour it without focus stealing checks.
                Message(s, s.Root, w, a.ActiveWindow, 2, 0, 0);
                via = "_NET_ACTIVE_WINDOW";
                break;
            case WindowAction.Activate:
                Xlib.XMapRaised(s.Handle, w);
                Xlib.XSetInputFocus(s.Handle, w, 1 /* RevertToPointerRoot */, 0);
                via = "XSetInputFocus";
                break;
            case WindowAction.Close when ewmh:
                Message(s, s.Root, w, a.CloseWindow, 0, 2);
                via = "_NET_CLOSE_WINDOW";
                break;
            case WindowAction.Close:
                Message(s, w, w, a.WmProtocols, (long)a.WmDeleteWindow, 0, mask: 0);
                via = "WM_DELETE_WINDOW";
                break;
            case WindowAction.Minimize:
                Message(s, s.Root, w, a.WmChangeState, 3 /* IconicState */);
                via = "WM_CHANGE_STATE";
                break;
            case WindowAction.Maximize:
                Message(s, s.Root, w, a.WmState, 1, (long)a.MaximizedVert, (long)a.MaximizedHorz, 2);
                via = "_NET_WM_STATE";
                break;
            case WindowAction.Fullscreen:
                Message(s, s.Root, w, a.WmState, 1, (long)a.Fullscreen, 0, 2);
                via = "_NET_WM_STATE";
                break;
            case WindowAction.Restore:
                Message(s, s.Root, w, a.WmState, 0, (long)a.MaximizedVert, (long)a.MaximizedHorz, 2);
                Message(s, s.Root, w, a.WmState, 0, (long)a.Fullscreen, 0, 2);
                if (attr.MapState != Xlib.IsViewable)
                {
                    if (ewmh) Message(s, s.Root, w, a.ActiveWindow, 2, 0, 0);
                    else Xlib.XMapRaised(s.Handle, w);
                }
                via = "_NET_WM_STATE";
                break;
            case WindowAction.Move or WindowAction.Resize:
                var m = move ?? throw SandboxException.BadField("body", "move needs {\"x\",\"y\"}, resize {\"width\",\"height\"}");
                if (ewmh)
                {
                    // Gravity NorthWest (1): x,y place the frame's top-left corner; width/height are the client's.
                    long flags = 1 | 2 << 12;
                    if (m.X is not null) flags |= 1 << 8;
                    if (m.Y is not null) flags |= 1 << 9;
                    if (m.Width is not null) flags |= 1 << 10;
                    if (m.Height is not null) flags |= 1 << 11;
                    Message(s, s.Root, w, a.MoveResizeWindow, flags, m.X ?? 0, m.Y ?? 0, m.Width ?? 0, m.Height ?? 0);
                    via = "_NET_MOVERESIZE_WINDOW";
                }
                else
                {
                    int cx, cy;
                    nuint child;
                    Xlib.XTranslateCoordinates(s.Handle, w, s.Root, 0, 0, &cx, &cy, &child);
                    Xlib.XMoveResizeWindow(s.Handle, w, m.X ?? cx, m.Y ?? cy, (uint)(m.Width ?? attr.Width), (uint)(m.Height ?? attr.Height));
                    via = "XMoveResizeWindow";
                }
                break;
            default:
                throw SandboxException.BadRequest($"unknown action {action}");
        }
        if (s.SyncAndTakeError() is { } e) throw SandboxException.Conflict($"the X server refused the {action} request: {e.Text}");
        return new WindowActionAnswer(id, action.ToString().ToLowerInvariant(), via);
    }, options.DisplayTimeoutMs);

    private static void Message(XSession s, nuint to, nuint window, nuint type, long d0 = 0, long d1 = 0, long d2 = 0, long d3 = 0, long d4 = 0,
        nint mask = Xlib.SubstructureRedirectMask | Xlib.SubstructureNotifyMask)
    {
        var e = new XClientMessageEvent
        {
            Type = Xlib.ClientMessage,
            SendEvent = 1,
            Display = s.Handle,
            Window = window,
            MessageType = type,
            Format = 32,
            D0 = (nint)d0, D1 = (nint)d1, D2 = (nint)d2, D3 = (nint)d3, D4 = (nint)d4,
        };
        Xlib.XSendEvent(s.Handle, to, 0, mask, (XEvent*)&e);
    }

    public void Dispose() => x.Dispose();
}

/// <summary>The body of move and resize: what is absent stays as it is.</summary>
internal sealed record WindowMove(int? X, int? Y, int? Width, int? Height);
