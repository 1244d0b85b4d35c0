using Sandbox.Native;

namespace Sandbox.Display;

/// <summary>
/// One open Display*, valid only inside <see cref="XDisplayConnection.Run{T}"/>. Per-connection
/// resources (a shared-memory image, say) are attached to it and disposed before it closes.
/// </summary>
internal sealed unsafe class XSession
{
    private readonly Dictionary<string, IDisposable> _attachments = [];
    private XErrorInfo? _lastError;

    public XSession(nint handle, long generation)
    {
        Handle = handle;
        Generation = generation;
        Screen = Xlib.XDefaultScreen(handle);
        Root = Xlib.XRootWindow(handle, Screen);
        Visual = Xlib.XDefaultVisual(handle, Screen);
        Depth = Xlib.XDefaultDepth(handle, Screen);
        // Each extension library is optional: without libXext there is no MIT-SHM (XGetImage serves),
        // without libXfixes no cursor image (screenshots come without the cursor).
        HasSharedMemory = Optional(() => XShm.XShmQueryExtension(handle) != 0);
        HasXFixes = Optional(() =>
        {
            int ev, err;
            if (XFixes.XFixesQueryExtension(handle, &ev, &err) == 0) return false;
            // The cursor image request needs the client to announce its version first.
            int major = 4, minor = 0;
            XFixes.XFixesQueryVersion(handle, &major, &minor);
            return true;
        });
        RefreshScreenSize();
    }

    private static bool Optional(Func<bool> probe)
    {
        try { return probe(); }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { return false; }
    }

    public nint Handle { get; }
    public long Generation { get; }
    public int Screen { get; }
    public nuint Root { get; }
    public nint Visual { get; }
    public int Depth { get; }
    public bool HasSharedMemory { get; set; }
    public bool HasXFixes { get; }
    public int ScreenWidth { get; private set; }
    public int ScreenHeight { get; private set; }

    /// <summary>Set by the process-wide IO error handler when the server connection is gone.</summary>
    public volatile bool Broken;

    /// <summary>Set once the display was closed; closing is never repeated.</summary>
    internal bool Closed;

    /// <summary>Reads the root window's current size (it changes with RandR) and returns it.</summary>
    public (int Width, int Height) RefreshScreenSize()
    {
        // One round trip (GetGeometry); XGetWindowAttributes would cost two.
        nuint root;
        int x, y;
        uint width, height, border, depth;
        if (Xlib.XGetGeometry(Handle, Root, &root, &x, &y, &width, &height, &border, &depth) != 0)
        {
            ScreenWidth = (int)width;
            ScreenHeight = (int)height;
        }
        return (ScreenWidth, ScreenHeight);
    }

    /// <summary>A size learned from the root's ConfigureNotify (a connection that selected StructureNotify on it).</summary>
    public void SetScreenSize(int width, int height)
    {
        if (width <= 0 || height <= 0) return;
        ScreenWidth = width;
        ScreenHeight = height;
    }

    public (int X, int Y) QueryPointer()
    {
        nuint root, child;
        int rx, ry, wx, wy;
        uint mask;
        Xlib.XQueryPointer(Handle, Root, &root, &child, &rx, &ry, &wx, &wy, &mask);
        return (rx, ry);
    }

    internal void RecordError(XErrorInfo e) => _lastError = e;

    /// <summary>Syncs with the server and returns (and clears) the X error our requests caused, if any.</summary>
    public XErrorInfo? SyncAndTakeError()
    {
        Xlib.XSync(Handle, 0);
        var e = _lastError;
        _lastError = null;
        return e;
    }

    public T GetOrAttach<T>(string key, Func<XSession, T> create) where T : class, IDisposable
    {
        if (_attachments.TryGetValue(key, out var existing)) return (T)existing;
        var created = create(this);
        _attachments[key] = created;
        return created;
    }

    public void Detach(string key)
    {
        if (_attachments.Remove(key, out var a)) a.Dispose();
    }

    internal void DisposeAttachments()
    {
        foreach (var a in _attachments.Values) a.Dispose();
        _attachments.Clear();
    }
}
