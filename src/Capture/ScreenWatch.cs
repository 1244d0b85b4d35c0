using Sandbox.Display;

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
/// bumps <see cref="Generation"/>. The events come from the same <see cref="ChangeWatch"/> the live view uses.
/// </summary>
/// <remarks>
/// Ordering: <see cref="Stamp"/> queries the pointer first (a round trip) and only then drains the
/// event queue. Events on one connection arrive in order, so every DamageNotify the server generated
/// for drawing it processed before answering the query is in the queue by then. <see cref="Rearm"/>
/// is sent before the screen is read, so drawing after it is reported again: a stale frame can never
/// be paired with a fresh stamp (the worst case is a needless re-encode).
/// </remarks>
internal sealed class ScreenWatch : IDisposable
{
    private static long s_ids;
    private readonly XSession _session;
    private readonly ChangeWatch? _changes;
    private readonly long _id = Interlocked.Increment(ref s_ids);
    private bool _cursorChanged = true;   // nothing read yet

    private ScreenWatch(XSession session, ChangeWatch? changes)
    {
        _session = session;
        _changes = changes;
    }

    public long Generation { get; private set; }

    /// <summary>
    /// False only when XFixes cursor notifications are watched and none arrived since <see cref="CursorRead"/>:
    /// the cursor image read then is still the displayed one.
    /// </summary>
    public bool CursorMayHaveChanged => _changes is not { WatchesCursor: true } || _cursorChanged;

    /// <summary>
    /// Called once the cursor image's reply arrived: a CursorNotify the server sent before it is already queued,
    /// so the next <see cref="Stamp"/> drains it and marks the image stale again.
    /// </summary>
    public void CursorRead() => _cursorChanged = false;

    /// <summary>False when the server (or this machine) lacks DAMAGE: nothing can be reused then.</summary>
    public bool Usable => _changes is not null;

    /// <summary>
    /// Starts watching. The root's StructureNotify is selected too, so a RandR resize arrives as a ConfigureNotify
    /// that <see cref="ChangeWatch.Drain"/> applies to the session's size: a stamp costs no GetGeometry round trip.
    /// </summary>
    public static ScreenWatch Create(XSession s)
    {
        Native.Xlib.XSelectInput(s.Handle, s.Root, Native.Xlib.StructureNotifyMask);
        var changes = ChangeWatch.TryCreate(s);   // ends with a round trip: the selection is in force
        if (changes is null) Native.Xlib.XSelectInput(s.Handle, s.Root, 0);
        s.RefreshScreenSize();   // after the selection: no resize falls in between
        return new(s, changes);
    }

    /// <summary>
    /// The pointer (one round trip), then every event that arrived, the root's ConfigureNotify included, so the
    /// stamp's size is current as of the pointer query; null when unusable or the connection broke.
    /// </summary>
    public ScreenStamp? Stamp(out int pointerX, out int pointerY)
    {
        (pointerX, pointerY) = _session.QueryPointer();
        if (_changes is null) return null;
        var (damaged, cursor) = _changes.Drain();
        if (_session.Broken) return null;
        if (damaged || cursor) Generation++;
        if (cursor) _cursorChanged = true;
        return new ScreenStamp(_id, Generation, pointerX, pointerY, _session.ScreenWidth, _session.ScreenHeight);
    }

    /// <summary>Clears the damage so that drawing from now on is reported; sent right before the screen is read.</summary>
    public void Rearm() => _changes?.Rearm();

    public void Dispose() => _changes?.Dispose();
}
