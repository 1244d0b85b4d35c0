using Sandbox.Display;
using Sandbox.Native;

namespace Sandbox.Capture;

/// <summary>
/// Identifies what the screen showed at one moment: equal stamps mean no drawing (DAMAGE), no cursor
/// change (XFixes cursor notify) and no pointer motion happened in between, on the same X connection
/// and screen size. <see cref="Watch"/> is unique per watch, so a reopened connection never matches.
/// </summary>
internal readonly record struct ScreenStamp(long Watch, long Generation, int PointerX, int PointerY, int Width, int Height);

/// <summary>
/// DAMAGE on the root window plus XFixes cursor notifications on the capture connection (attached to
/// its X session, so both are recreated when the connection is reopened). Every damage or cursor event
/// bumps <see cref="Generation"/>. The same idea as the live view's change watch, kept in this area.
/// </summary>
/// <remarks>
/// Ordering: <see cref="Stamp"/> queries the pointer first (a round trip) and only then drains the
/// event queue. Events on one connection arrive in order, so every DamageNotify the server generated
/// for drawing it processed before answering the query is in the queue by then. <see cref="Rearm"/>
/// is sent before the screen is read, so drawing after it is reported again: a stale frame can never
/// be paired with a fresh stamp (the worst case is a needless re-encode).
/// </remarks>
internal sealed unsafe class ScreenWatch : IDisposable
{
    private static long s_ids;
    private readonly XSession _session;
    private readonly nuint _damage;
    private readonly int _damageEvent;
    private readonly int _cursorEvent;
    private readonly long _id = Interlocked.Increment(ref s_ids);
    private bool _disposed;

    private ScreenWatch(XSession session, nuint damage, int damageEvent, int cursorEvent)
    {
        _session = session;
        _damage = damage;
        _damageEvent = damageEvent;
        _cursorEvent = cursorEvent;
    }

    public long Generation { get; private set; }

    /// <summary>False when the server (or this machine) lacks DAMAGE: nothing can be reused then.</summary>
    public bool Usable => _damage != 0;

    public static ScreenWatch Create(XSession s)
    {
        try
        {
            int ev, err, major = 1, minor = 1;
            if (XDamage.XDamageQueryExtension(s.Handle, &ev, &err) == 0) return Unusable(s);
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
            if (s.SyncAndTakeError() is not null || damage == 0) return Unusable(s);
            return new ScreenWatch(s, damage, ev + XDamage.Notify, cursorEvent);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return Unusable(s);
        }
    }

    private static ScreenWatch Unusable(XSession s) => new(s, 0, -1, -1);

    /// <summary>The pointer (one round trip), then every event that arrived; null when unusable or the connection broke.</summary>
    public ScreenStamp? Stamp(int width, int height, out int pointerX, out int pointerY)
    {
        (pointerX, pointerY) = _session.QueryPointer();
        if (!Usable) return null;
        XEvent e;
        var changed = false;
        // XNextEvent on a display that just had an IO error would wait on a dead queue: check first.
        while (!_session.Broken && Xlib.XPending(_session.Handle) > 0 && !_session.Broken)
        {
            Xlib.XNextEvent(_session.Handle, &e);
            if (e.Type == _damageEvent || e.Type == _cursorEvent) changed = true;
        }
        if (_session.Broken) return null;
        if (changed) Generation++;
        return new ScreenStamp(_id, Generation, pointerX, pointerY, width, height);
    }

    /// <summary>Clears the damage so that drawing from now on is reported; sent right before the screen is read.</summary>
    public void Rearm()
    {
        if (Usable && !_session.Broken) XDamage.XDamageSubtract(_session.Handle, _damage, 0, 0);
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (Usable && !_session.Broken) XDamage.XDamageDestroy(_session.Handle, _damage);
    }
}
