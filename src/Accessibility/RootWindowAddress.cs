using System.Text;
using Sandbox.Native;

namespace Sandbox.Accessibility;

/// <summary>The accessibility bus address from the X root window's AT_SPI_BUS property, when a desktop publishes it there.</summary>
internal static unsafe class RootWindowAddress
{
    /// <summary>The property's text, or null (no display, no property, not 8-bit text).</summary>
    public static string? Read(string? displayName)
    {
        if (string.IsNullOrEmpty(displayName)) return null;
        try
        {
            var name = Encoding.UTF8.GetBytes(displayName + "\0");
            nint display;
            fixed (byte* p = name) display = Xlib.XOpenDisplay(p);
            if (display == 0) return null;
            try
            {
                var atomName = "AT_SPI_BUS\0"u8;
                nuint atom;
                fixed (byte* a = atomName) atom = Xlib.XInternAtom(display, a, 1);
                if (atom == 0) return null;
                var root = Xlib.XRootWindow(display, Xlib.XDefaultScreen(display));
                nuint type, items, after;
                int format;
                byte* data = null;
                if (Xlib.XGetWindowProperty(display, root, atom, 0, 4096, 0, Xlib.AnyPropertyType, &type, &format, &items, &after, &data) != 0)
                    return null;
                try
                {
                    if (data is null || format != 8 || items == 0) return null;
                    var text = Encoding.UTF8.GetString(data, (int)items).TrimEnd('\0');
                    return text.Length > 0 ? text : null;
                }
                finally
                {
                    if (data is not null) Xlib.XFree(data);
                }
            }
            finally
            {
                Xlib.XCloseDisplay(display);
            }
        }
        catch (DllNotFoundException)
        {
            return null;
        }
    }
}
