using Sandbox.Native;

namespace Sandbox.Display;

/// <summary>What the server reported since the last <see cref="ChangeWatch.Poll"/>.</summary>
internal readonly record struct ChangeReport(bool Damaged, bool CursorChanged, int PointerX, int PointerY);

/// <summary>
/// DAMAGE on the root window plus XFixes cursor notifications, attached to one X session (so they are
/// recreated after the connection is reopened). Shared by the live view (<see cref="Poll"/>) and the capture
/// area's screenshot reuse (<see cref="Drain"/>). <see cref="Poll"/> costs no round trip for the events
/// (XPending reads what already arrived) and one for the pointer, which moves without damage.
/// Null from <see cref="TryCreate"/> when the server or libXdamage lacks the extension: the frame
/// source then reads the screen on every tick and relies on its row hashes alone.
/// </summary>
internal sealed unsafe class ChangeWatch : IDisposable
{
    private readonly XSession _session;
    private readonly nuint _damage;
    private readonly int _damageEvent;
    private readonly int _cursorEvent;
    private bool _disposed;

    private ChangeWatch(XSession session, nuint damage, int damageEvent, int cursorEvent)
    {
        _session = session;
        _damage = damage;
        _damageEvent = damageEvent;
        _cursorEvent = cursorEvent;
    }

    /// <summary>True when XFixes cursor notifications are selected (every change of the displayed cursor is reported).</summary>
    public bool WatchesCursor => _cursorEvent >= 0;

    public static ChangeWatch? TryCreate(XSession s)
    {
        try
        {
            int ev, err, major = 1, minor = 1;
            if (XDamage.XDamageQueryExtension(s.Handle, &ev, &err) == 0) return null;
            XDamage.XDamageQueryVersion(s.Handle, &major, &minor);
            var damage = XDamage.XDamageCreate(s.Handle, s.Root, XDamage.ReportNonEmpty);
            var cursorEvent = -1;
            if (s.HasXFixes)
            {
                int fev, ferr;
                if (XFixes.XFixesQueryExtension(s.Handle, &fev, &ferr) != 0)
                {
                    XFixes.XFixesSelectCursorInput(s.Handle, s.Root, XFixes.DisplayCursorNotifyMask);
                    cursorEvent = fev + XFixes.CursorNotify;
                }
            }
            if (s.SyncAndTakeError() is not null || damage == 0) return null;
            return new ChangeWatch(s, damage, ev + XDamage.Notify, cursorEvent);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
    }

    /// <summary>Drains the events that arrived and reads the pointer. Damage stays reported until <see cref="Rearm"/>.</summary>
    public ChangeReport Poll()
    {
        var (damaged, cursor) = Drain();
        var (x, y) = _session.QueryPointer();
        return new ChangeReport(damaged, cursor, x, y);
    }

    private const int ConfigureNotify = 22;

    /// <summary>
    /// Takes every event that already arrived (no round trip): was there damage, did the cursor change. A root
    /// ConfigureNotify (queued when the connection selected StructureNotify on the root) updates the session's size.
    /// </summary>
    public (bool Damaged, bool CursorChanged) Drain()
    {
        bool damaged = false, cursor = false;
        XEvent e;
        // XNextEvent on a display that just had an IO error would wait on a dead queue: check first.
        while (!_session.Broken && Xlib.XPending(_session.Handle) > 0 && !_session.Broken)
        {
            Xlib.XNextEvent(_session.Handle, &e);
            if (e.Type == _damageEvent) damaged = true;
            else if (e.Type == _cursorEvent) cursor = true;
            else if (e.Type == ConfigureNotify)
            {
                // XConfigureEvent: window at byte 40, width and height at 56 and 60.
                var bytes = (byte*)&e;
                if (*(nuint*)(bytes + 40) == _session.Root) _session.SetScreenSize(*(int*)(bytes + 56), *(int*)(bytes + 60));
            }
        }
        return (damaged, cursor);
    }

    /// <summary>Clears the damage, so drawing from now on is reported again; call right before reading the screen.</summary>
    public void Rearm()
    {
        if (!_session.Broken) XDamage.XDamageSubtract(_session.Handle, _damage, 0, 0);
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        // Attachments are disposed before the display closes; a broken display takes no more requests.
        if (!_session.Broken) XDamage.XDamageDestroy(_session.Handle, _damage);
    }
}
