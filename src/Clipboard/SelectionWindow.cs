using System.Text;
using Sandbox.Display;
using Sandbox.Native;

namespace Sandbox.Clipboard;

/// <summary>
/// The hidden (never mapped) window that owns our selections and receives conversions, with the atoms
/// the clipboard uses; attached to one X session, so a reconnection makes a fresh one.
/// </summary>
internal sealed unsafe class SelectionWindow : IDisposable
{
    private readonly XSession _session;

    public SelectionWindow(XSession s)
    {
        _session = s;
        Window = Xlib.XCreateSimpleWindow(s.Handle, s.Root, -10, -10, 1, 1, 0, 0, 0);
        Xlib.XSelectInput(s.Handle, Window, Xlib.PropertyChangeMask);
        Clipboard = Atom(s, "CLIPBOARD");
        Primary = 1; // XA_PRIMARY
        Targets = Atom(s, "TARGETS");
        Incr = Atom(s, "INCR");
        Utf8String = Atom(s, "UTF8_STRING");
        Text = Atom(s, "TEXT");
        TextPlainUtf8 = Atom(s, "text/plain;charset=utf-8");
        ImagePng = Atom(s, "image/png");
        Multiple = Atom(s, "MULTIPLE");
        Property = Atom(s, "SANDBOX_SELECTION");
        var requestMax = Math.Max((long)Xlib.XExtendedMaxRequestSize(s.Handle), (long)Xlib.XMaxRequestSize(s.Handle)) * 4;
        MaxPropertyBytes = (int)Math.Min(int.MaxValue, Math.Max(4096, requestMax - 1024));
    }

    public nuint Window { get; }
    public nuint Clipboard { get; }
    public nuint Primary { get; }
    public nuint Targets { get; }
    public nuint Incr { get; }
    public nuint Utf8String { get; }
    public nuint Text { get; }
    public nuint TextPlainUtf8 { get; }
    public nuint ImagePng { get; }
    public nuint Multiple { get; }
    /// <summary>The property on <see cref="Window"/> that conversions we ask for are delivered into.</summary>
    public nuint Property { get; }
    /// <summary>The largest property one request may set on this server.</summary>
    public int MaxPropertyBytes { get; }

    public nuint SelectionAtom(ClipboardSelection s) => s == ClipboardSelection.Clipboard ? Clipboard : Primary;

    public static nuint Atom(XSession s, string name)
    {
        var bytes = Encoding.ASCII.GetBytes(name + "\0");
        fixed (byte* p = bytes) return Xlib.XInternAtom(s.Handle, p, 0);
    }

    public void Dispose()
    {
        if (!_session.Broken) Xlib.XDestroyWindow(_session.Handle, Window);
    }
}
