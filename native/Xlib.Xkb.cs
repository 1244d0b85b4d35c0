using System.Runtime.InteropServices;

namespace Sandbox.Native;

/// <summary>
/// libX11's XKB client side (XKBlib.h): keycode → keysym through a client-side copy of the XKB keymap
/// (groups, levels, key types, Lock and NumLock handled by libX11's own translation).
/// </summary>
internal static unsafe partial class Xlib
{
    /// <summary>Key types, symbols, modifier map and the server-side parts (virtual modifiers).</summary>
    public const uint XkbAllMapComponentsMask = 0xff;

    /// <summary>The whole keymap of the core keyboard; free with <see cref="XkbFreeKeyboard"/>. Null without XKB.</summary>
    [LibraryImport(Libraries.X11)]
    public static partial nint XkbGetMap(nint display, uint which, uint deviceSpec);

    [LibraryImport(Libraries.X11)]
    public static partial void XkbFreeKeyboard(nint xkb, uint which, int freeDescription);

    /// <summary>Applies group (state bits 13–14) and modifiers to a keycode; returns False for an unmapped key.</summary>
    [LibraryImport(Libraries.X11)]
    public static partial int XkbTranslateKeyCode(nint xkb, byte keycode, uint modifiers, uint* modifiersReturn, nuint* keysymReturn);

    [LibraryImport(Libraries.X11)]
    public static partial int XkbQueryExtension(nint display, int* opcode, int* eventBase, int* errorBase, int* major, int* minor);
}
