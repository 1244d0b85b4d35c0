using System.Runtime.InteropServices;

namespace Sandbox.Native;

/// <summary>
/// DAMAGE: the server tells us when drawing changed a window's contents, so the live view reads the
/// screen only after a change instead of on every tick.
/// </summary>
internal static unsafe partial class XDamage
{
    /// <summary>XDamageReportNonEmpty: one event when the damage region becomes non-empty, none until it is subtracted.</summary>
    public const int ReportNonEmpty = 3;
    /// <summary>XDamageNotify, relative to the extension's event base.</summary>
    public const int Notify = 0;

    [LibraryImport(Libraries.Xdamage)]
    public static partial int XDamageQueryExtension(nint display, int* eventBase, int* errorBase);

    [LibraryImport(Libraries.Xdamage)]
    public static partial int XDamageQueryVersion(nint display, int* major, int* minor);

    /// <summary>Returns the Damage XID.</summary>
    [LibraryImport(Libraries.Xdamage)]
    public static partial nuint XDamageCreate(nint display, nuint drawable, int level);

    /// <summary>With repair and parts None (0): clears all damage, re-arming the NonEmpty report.</summary>
    [LibraryImport(Libraries.Xdamage)]
    public static partial void XDamageSubtract(nint display, nuint damage, nuint repair, nuint parts);

    [LibraryImport(Libraries.Xdamage)]
    public static partial void XDamageDestroy(nint display, nuint damage);
}
