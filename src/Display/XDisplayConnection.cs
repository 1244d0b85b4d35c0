using Sandbox.Common;
using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Extensions.Logging;
using Sandbox.Native;

namespace Sandbox.Display;

internal enum DisplayState { NotConfigured, Disconnected, Connected, Lost, Unavailable }

/// <summary>An X error the server sent for one of our requests, recorded instead of printed.</summary>
internal readonly record struct XErrorInfo(byte ErrorCode, byte RequestCode, byte MinorCode, nuint Serial, string Text);

/// <summary>The X display could not be reached, was lost, or stayed busy; the API answers 503.</summary>
internal sealed class DisplayUnavailableException(string message) : SandboxException(ErrorKind.Unavailable, message);

/// <summary>
/// One Xlib connection owned by one area, opened lazily and reopened after the X server went away.
/// <para>
/// Threading: every use runs under <see cref="_gate"/>, so Xlib sees one thread at a time per display
/// (XInitThreads is still called, because areas own separate connections on separate threads).
/// Lifetime: an open connection is an <see cref="XSession"/>. When Xlib reports a fatal IO error the
/// process-wide handler marks that session broken; the use in progress then fails with
/// <see cref="DisplayUnavailableException"/>, the session is torn down (its attachments first, then
/// the display), and the next use opens a fresh one. The default Xlib behaviour, exit(1), never runs.
/// </para>
/// </summary>
internal sealed unsafe partial class XDisplayConnection : IDisposable
{
    public const string MissingLibraryHint = "Debian packages libx11-6 libxext6 libxfixes3 libxtst6";
    private static readonly ConcurrentDictionary<nint, XSession> s_live = new();
    private static readonly object s_initLock = new();
    private static bool s_initialized;

    private readonly object _gate = new();
    private readonly ILogger _log;
    private readonly string _purpose;
    private XSession? _session;
    private long _generation;
    private bool _disposed;

    public XDisplayConnection(string? displayName, string purpose, ILogger log)
    {
        DisplayName = displayName;
        _purpose = purpose;
        _log = log;
        State = displayName is null ? DisplayState.NotConfigured : DisplayState.Disconnected;
    }

    public string? DisplayName { get; }
    public DisplayState State { get; private set; }
    public string? LastError { get; private set; }

    /// <summary>Screen size of the last successful use, for health reports that must not block on X.</summary>
    public (int Width, int Height)? LastScreenSize { get; private set; }
    public bool LastHadSharedMemory { get; private set; }

    /// <summary>
    /// Runs <paramref name="use"/> with an open display, opening or reopening it first. Throws
    /// <see cref="DisplayUnavailableException"/> when there is no display or it was lost during the use.
    /// When a connection kept from an earlier call turns out dead, the use runs once more on a fresh one,
    /// unless <paramref name="retryOnDeadConnection"/> is false (a use that depends on server-side state
    /// made earlier, such as a record context, must not run against a new server).
    /// </summary>
    public T Run<T>(Func<XSession, T> use, int timeoutMs, bool retryOnDeadConnection = true)
    {
        if (DisplayName is null)
            throw new DisplayUnavailableException("no X display configured: set DISPLAY");
        if (!Monitor.TryEnter(_gate, timeoutMs))
            throw new DisplayUnavailableException($"the X display {DisplayName} stayed busy for {timeoutMs} ms");
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var reused = _session is not null;
            var session = _session ?? Open();
            if (TryUse(session, use, out var result)) return result;
            // A connection kept from before may have died with an X server that was restarted since (nothing
            // told us: it was idle). What it sent went nowhere, so the use runs once more on a fresh one.
            var lost = Lost(session);
            if (!reused || !retryOnDeadConnection) throw lost;
            session = Open();
            _log.LogInformation("{Purpose}: reconnected to X display {Display} (the previous connection had died)", _purpose, DisplayName);
            if (TryUse(session, use, out result)) return result;
            throw Lost(session);
        }
        finally
        {
            Monitor.Exit(_gate);
        }
    }

    /// <summary>Runs the use; false when the session turned out broken (by an exception or the IO error flag).</summary>
    private bool TryUse<T>(XSession session, Func<XSession, T> use, out T result)
    {
        try
        {
            result = use(session);
        }
        catch (Exception) when (session.Broken)
        {
            result = default!;
            return false;
        }
        // Xlib returns normally from most calls after an IO error; the handler's flag tells.
        if (session.Broken) return false;
        LastScreenSize = (session.ScreenWidth, session.ScreenHeight);
        return true;
    }

    /// <summary>Opens the display now if it is not open, logging instead of throwing; for start-up warm-up.</summary>
    public void TryConnect(int timeoutMs)
    {
        try { Run(static _ => 0, timeoutMs); }
        catch (DisplayUnavailableException e) { _log.LogWarning("{Purpose}: {Message}", _purpose, e.Message); }
    }

    private XSession Open()
    {
        try
        {
            EnsureXlibInitialized();
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // A minimal image without the X client libraries: report it, keep serving everything else.
            State = DisplayState.Unavailable;
            LastError = "the X client libraries are missing (" + MissingLibraryHint + "): " + e.Message;
            throw new DisplayUnavailableException(LastError);
        }
        var name = Encoding.UTF8.GetBytes(DisplayName + "\0");
        nint handle;
        fixed (byte* p = name) handle = Xlib.XOpenDisplay(p);
        if (handle == 0)
        {
            State = DisplayState.Disconnected;
            LastError = $"cannot open X display {DisplayName} (is the X server running and are we allowed: XAUTHORITY/xhost?)";
            throw new DisplayUnavailableException(LastError);
        }

        Xlib.XSetIOErrorExitHandler(handle, &OnIOErrorExit, 0);
        var session = new XSession(handle, ++_generation);
        s_live[handle] = session;
        _session = session;
        State = DisplayState.Connected;
        LastError = null;
        LastHadSharedMemory = session.HasSharedMemory;
        LastScreenSize = (session.ScreenWidth, session.ScreenHeight);
        _log.LogInformation("{Purpose}: connected to X display {Display} ({Width}x{Height}, MIT-SHM {Shm}, XFixes {Fixes})",
            _purpose, DisplayName, session.ScreenWidth, session.ScreenHeight, session.HasSharedMemory, session.HasXFixes);
        return session;
    }

    private DisplayUnavailableException Lost(XSession session)
    {
        var wasOpen = ReferenceEquals(_session, session);
        Close(session);
        State = DisplayState.Lost;
        LastError = $"lost the connection to X display {DisplayName}; it is reopened on the next request";
        if (wasOpen) _log.LogWarning("{Purpose}: {Message}", _purpose, LastError);
        return new DisplayUnavailableException(LastError);
    }

    private void Close(XSession session)
    {
        // Idempotent: Dispose may follow a loss, and XCloseDisplay twice is a use-after-free.
        if (session.Closed) return;
        session.Closed = true;
        // Attachments (shared-memory images, contexts) go first: they may still need the display.
        session.DisposeAttachments();
        s_live.TryRemove(session.Handle, out _);
        // Xlib marks a display that had an IO error and skips further protocol on it, so closing a
        // broken display only frees its memory and file descriptor.
        Xlib.XCloseDisplay(session.Handle);
        if (ReferenceEquals(_session, session)) _session = null;
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            if (_session is { } s) Close(s);
            State = DisplayState.Disconnected;
        }
    }

    private static void EnsureXlibInitialized()
    {
        lock (s_initLock)
        {
            if (s_initialized) return;
            Xlib.XInitThreads();
            Xlib.XSetErrorHandler(&OnXError);
            Xlib.XSetIOErrorHandler(&OnIOError);
            s_initialized = true;
        }
    }

    [UnmanagedCallersOnly]
    private static int OnXError(nint display, XErrorEvent* e)
    {
        var text = new byte[256];
        fixed (byte* p = text) Xlib.XGetErrorText(display, e->ErrorCode, p, text.Length);
        var info = new XErrorInfo(e->ErrorCode, e->RequestCode, e->MinorCode, e->Serial,
            Encoding.UTF8.GetString(text.AsSpan(0, Math.Max(0, text.AsSpan().IndexOf((byte)0)))));
        if (s_live.TryGetValue(display, out var session)) session.RecordError(info);
        return 0;
    }

    [UnmanagedCallersOnly]
    private static int OnIOError(nint display)
    {
        if (s_live.TryGetValue(display, out var session)) session.Broken = true;
        return 0;
    }

    [UnmanagedCallersOnly]
    private static void OnIOErrorExit(nint display, nint userData)
    {
        // Returning here (instead of Xlib's default exit(1)) is what keeps a lost display from killing us.
        if (s_live.TryGetValue(display, out var session)) session.Broken = true;
    }
}
