using Microsoft.Extensions.Logging;
using Sandbox.Display;
using Sandbox.Native;

namespace Sandbox.Input;

/// <summary>
/// XTEST input on one open display: fake pointer and key events, what we hold pressed, and the keyboard
/// mapping. Attached to the <see cref="XSession"/>, so it dies with the connection; disposing it (at
/// shutdown, or when the session closes) releases what is held and restores remapped keycodes, unless
/// the server is already gone.
/// Not thread-safe: every call runs inside <see cref="XDisplayConnection.Run{T}"/>.
/// </summary>
internal sealed unsafe class InputSession : IDisposable
{
    public const string Key = "input.xtest";
    private const uint LockMask = 2;

    private readonly XSession _session;
    private readonly ILogger _log;
    private readonly List<byte> _heldKeys = [];
    private readonly List<uint> _heldButtons = [];
    private bool _disposed;

    private InputSession(XSession session, ILogger log)
    {
        _session = session;
        _log = log;
    }

    public static InputSession Open(XSession session, ILogger log)
    {
        int ev, err, major, minor;
        if (XTest.XTestQueryExtension(session.Handle, &ev, &err, &major, &minor) == 0)
            throw new DisplayUnavailableException("the X server has no XTEST extension, which input actions need");
        // Keep working while another client grabs the server (a menu, a screen locker's grab).
        XTest.XTestGrabControl(session.Handle, 1);
        var input = new InputSession(session, log);
        // The root's ConfigureNotify (a RandR resize) keeps the screen size current without a round trip per
        // request: the server queues it on this connection before it answers the client that resized, so
        // draining the queue at the start of a request sees every resize that came before the request.
        Xlib.XSelectInput(session.Handle, session.Root, Xlib.StructureNotifyMask);
        session.RefreshScreenSize();   // a round trip after the selection: no resize falls in between
        input.Keyboard.Load(session.Handle);
        return input;
    }

    private const int ConfigureNotify = 22;

    /// <summary>The screen size as of the last drained event (see <see cref="Open"/>); no round trip.</summary>
    public (int Width, int Height) ScreenSize => (_session.ScreenWidth, _session.ScreenHeight);

    public KeyboardMap Keyboard { get; } = new();
    public nint Display => _session.Handle;
    public XSession Session => _session;
    public bool IsHoldingAnything => _heldKeys.Count > 0 || _heldButtons.Count > 0;

    /// <summary>
    /// Reads pending events so they do not pile up: MappingNotify from every keymap change, and the root's
    /// ConfigureNotify, which updates the screen size.
    /// </summary>
    public int DrainEvents()
    {
        var n = 0;
        // XEvent is a union of 24 longs; XConfigureEvent's window is at byte 40, width and height at 56 and 60.
        var e = stackalloc long[24];
        // XNextEvent on a display that just had an IO error dereferences an empty queue: check first.
        while (!_session.Broken && Xlib.XPending(Display) > 0 && !_session.Broken)
        {
            Xlib.XNextEvent(Display, (XEvent*)e);
            var bytes = (byte*)e;
            if (*(int*)bytes == ConfigureNotify && *(nuint*)(bytes + 40) == _session.Root)
                _session.SetScreenSize(*(int*)(bytes + 56), *(int*)(bytes + 60));
            n++;
        }
        return n;
    }

    public XkbStateRec KeyboardState()
    {
        XkbStateRec state;
        if (Xlib.XkbGetState(Display, Xlib.XkbUseCoreKbd, &state) != 0) return default;
        return state;
    }

    public bool CapsLockOn(in XkbStateRec state) => (state.LockedMods & LockMask) != 0;

    // ---- pointer ----

    public void MoveTo(int x, int y) => XTest.XTestFakeMotionEvent(Display, _session.Screen, x, y, 0);

    public void ButtonDown(uint button)
    {
        XTest.XTestFakeButtonEvent(Display, button, 1, 0);
        if (!_heldButtons.Contains(button)) _heldButtons.Add(button);
    }

    public void ButtonUp(uint button)
    {
        XTest.XTestFakeButtonEvent(Display, button, 0, 0);
        _heldButtons.Remove(button);
    }

    public void ButtonClick(uint button)
    {
        ButtonDown(button);
        ButtonUp(button);
    }

    // ---- keys ----

    public void KeyDown(byte keycode)
    {
        XTest.XTestFakeKeyEvent(Display, keycode, 1, 0);
        if (!_heldKeys.Contains(keycode)) _heldKeys.Add(keycode);
    }

    public void KeyUp(byte keycode)
    {
        XTest.XTestFakeKeyEvent(Display, keycode, 0, 0);
        _heldKeys.Remove(keycode);
    }

    public bool IsHeld(byte keycode) => _heldKeys.Contains(keycode);

    /// <summary>The keycode of Shift_L (or Shift_R) in the current layout.</summary>
    public byte ShiftKeycode() =>
        (Keyboard.InLayout(Keysyms.ShiftL) ?? Keyboard.InLayout(Keysyms.ShiftR))?.Keycode
        ?? throw new ActionFailedException("the keyboard layout has no Shift key");

    /// <summary>Presses a stroke (with Shift around it when it is on level 2) and releases it.</summary>
    public void Tap(KeyStroke stroke)
    {
        byte pressShift = 0, liftShift = 0;
        var held = (Keyboard.InLayout(Keysyms.ShiftL) ?? Keyboard.InLayout(Keysyms.ShiftR))?.Keycode ?? 0;
        if (stroke.Shift)
        {
            pressShift = ShiftKeycode();
            if (IsHeld(pressShift)) pressShift = 0;
            else KeyDown(pressShift);
        }
        else if (held != 0 && IsHeld(held) && Keyboard.Bound(stroke.Keysym) is { } b && b.Keycode == stroke.Keycode)
        {
            // A spare keycode's level 1 under a Shift the agent holds would type its level-2 partner.
            liftShift = held;
            KeyUp(liftShift);
        }
        KeyDown(stroke.Keycode);
        KeyUp(stroke.Keycode);
        if (pressShift != 0) KeyUp(pressShift);
        if (liftShift != 0) KeyDown(liftShift);
        Keyboard.Used(stroke.Keysym);
    }

    /// <summary>Releases every key and button we hold, newest first. Returns whether anything was held.</summary>
    public bool ReleaseAll()
    {
        var any = IsHoldingAnything;
        for (var i = _heldButtons.Count - 1; i >= 0; i--) XTest.XTestFakeButtonEvent(Display, _heldButtons[i], 0, 0);
        _heldButtons.Clear();
        for (var i = _heldKeys.Count - 1; i >= 0; i--) XTest.XTestFakeKeyEvent(Display, _heldKeys[i], 0, 0);
        _heldKeys.Clear();
        return any;
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        // A broken display would only report another IO error; the server dropped our state with us.
        if (_session.Broken) return;
        try
        {
            ReleaseAll();
            var restored = Keyboard.RestoreAll(Display);
            Xlib.XSync(Display, 0);
            if (restored > 0) _log.LogInformation("restored {Count} remapped keycodes", restored);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            _log.LogWarning("releasing input on close failed: {Message}", e.Message);
        }
    }
}

/// <summary>An action could not be carried out as asked (off-screen, no such key); answered 400 naming it.</summary>
internal sealed class ActionFailedException(string message, int status = 400) : Exception(message)
{
    public int Status { get; } = status;
}
