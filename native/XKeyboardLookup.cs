using System.Runtime.InteropServices;

namespace Sandbox.Native;

/// <summary>
/// Keycode → keysym through a client-side copy of the XKB keymap (groups, levels, key types, Lock and
/// NumLock handled by libX11's own translation), plus the few core calls around it.
/// </summary>
internal static unsafe partial class XKeyboardLookup
{
    public const uint XkbUseCoreKbd = 0x0100;
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

    [LibraryImport(Libraries.X11)]
    public static partial int XQueryExtension(nint display, byte* name, int* majorOpcode, int* firstEvent, int* firstError);

    [LibraryImport(Libraries.X11)]
    public static partial int XDisplayKeycodes(nint display, int* minKeycode, int* maxKeycode);

    /// <summary>The core keysyms of a key range; free with <see cref="Xlib.XFree"/>.</summary>
    [LibraryImport(Libraries.X11)]
    public static partial nuint* XGetKeyboardMapping(nint display, byte firstKeycode, int count, int* keysymsPerKeycode);

    [LibraryImport(Libraries.X11)]
    public static partial XModifierKeymap* XGetModifierMapping(nint display);

    [LibraryImport(Libraries.X11)]
    public static partial int XFreeModifiermap(XModifierKeymap* map);

    /// <summary>The keysym's name ("Return", "eacute"), a static string owned by libX11; null if unknown.</summary>
    [LibraryImport(Libraries.X11)]
    public static partial byte* XKeysymToString(nuint keysym);

    [LibraryImport(Libraries.X11)]
    public static partial void XConvertCase(nuint keysym, nuint* lower, nuint* upper);
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct XModifierKeymap
{
    public int MaxKeysPerModifier;
    /// <summary>8 modifiers (Shift, Lock, Control, Mod1…Mod5) × <see cref="MaxKeysPerModifier"/> keycodes.</summary>
    public byte* ModifierMap;
}
