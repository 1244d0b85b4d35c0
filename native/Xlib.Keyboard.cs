using System.Runtime.InteropServices;

namespace Sandbox.Native;

/// <summary>
/// libX11's keyboard: the core mapping (keycode → keysyms), keysym names and case, the keyboard state,
/// and the event queue calls that drain MappingNotify. KeySym is an "unsigned long" (nuint); KeyCode is
/// an unsigned char (byte: libX11 is built with narrow prototypes on Linux, Xfuncproto.h's NARROWPROTO).
/// Keysym rows returned by Xlib are freed with <see cref="XFree"/>.
/// </summary>
internal static unsafe partial class Xlib
{
    public const nuint NoSymbol = 0;

    /// <summary>The device spec XKB uses for the core keyboard.</summary>
    public const uint XkbUseCoreKbd = 0x0100;

    [LibraryImport(Libraries.X11)]
    public static partial int XDisplayKeycodes(nint display, int* minKeycode, int* maxKeycode);

    /// <summary>Returns count × keysymsPerKeycode keysyms, row by row; free with <see cref="XFree"/>.</summary>
    [LibraryImport(Libraries.X11)]
    public static partial nuint* XGetKeyboardMapping(nint display, byte firstKeycode, int count, int* keysymsPerKeycode);

    [LibraryImport(Libraries.X11)]
    public static partial int XChangeKeyboardMapping(nint display, int firstKeycode, int keysymsPerKeycode, nuint* keysyms, int count);

    /// <summary>Uses Xlib's client-side copy of the mapping, which lags behind changes until events are read.</summary>
    [LibraryImport(Libraries.X11)]
    public static partial byte XKeysymToKeycode(nint display, nuint keysym);

    /// <summary>Needs no display: a lookup in libX11's keysym name table (case-sensitive).</summary>
    [LibraryImport(Libraries.X11)]
    public static partial nuint XStringToKeysym(byte* name);

    /// <summary>The keysym's name ("Return", "eacute"), a static string owned by libX11; null if unknown.</summary>
    [LibraryImport(Libraries.X11)]
    public static partial byte* XKeysymToString(nuint keysym);

    [LibraryImport(Libraries.X11)]
    public static partial void XConvertCase(nuint keysym, nuint* lower, nuint* upper);

    [LibraryImport(Libraries.X11)]
    public static partial XModifierKeymap* XGetModifierMapping(nint display);

    [LibraryImport(Libraries.X11)]
    public static partial int XFreeModifiermap(XModifierKeymap* map);

    /// <summary>The keyboard's current group and modifiers (XKB; Xlib initialises the extension itself).</summary>
    [LibraryImport(Libraries.X11)]
    public static partial int XkbGetState(nint display, uint deviceSpec, XkbStateRec* state);

    // Event queue access, for draining the MappingNotify events every keyboard change sends to all clients
    // (left unread they would pile up in Xlib's queue for as long as the connection lives).
    public const int MappingNotify = 34;

    [LibraryImport(Libraries.X11)]
    public static partial int XPending(nint display);

    [LibraryImport(Libraries.X11)]
    public static partial int XNextEvent(nint display, XEvent* e);
}

[StructLayout(LayoutKind.Sequential)]
internal struct XkbStateRec
{
    public byte Group;
    public byte LockedGroup;
    public ushort BaseGroup;
    public ushort LatchedGroup;
    public byte Mods, BaseMods, LatchedMods, LockedMods;
    public byte CompatState, GrabMods, CompatGrabMods, LookupMods, CompatLookupMods;
    public ushort PtrButtons;
}

/// <summary>Xlib's XEvent union: 24 longs; only the leading type is read here.</summary>
[StructLayout(LayoutKind.Sequential, Size = 24 * 8)]
internal struct XEvent
{
    public int Type;
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct XModifierKeymap
{
    public int MaxKeysPerModifier;
    /// <summary>8 modifiers (Shift, Lock, Control, Mod1…Mod5) × <see cref="MaxKeysPerModifier"/> keycodes.</summary>
    public byte* ModifierMap;
}
