using System.Runtime.InteropServices;

namespace Sandbox.Native;

/// <summary>
/// The RECORD extension, also from libXtst (record.h): the server copies every device event (and chosen
/// requests) of every client to a connection of ours. Protocol: X Record Extension Library, version 1.13.
/// </summary>
internal static unsafe partial class XTest
{
    /// <summary>Every current and future client.</summary>
    public const nuint XRecordAllClients = 3;

    // XRecordInterceptData.category
    public const int XRecordFromServer = 0;
    public const int XRecordFromClient = 1;
    public const int XRecordClientStarted = 2;
    public const int XRecordClientDied = 3;
    public const int XRecordStartOfData = 4;
    public const int XRecordEndOfData = 5;

    [LibraryImport(Libraries.Xtst)]
    public static partial int XRecordQueryVersion(nint display, int* major, int* minor);

    /// <summary>A zeroed range; free it with <see cref="Xlib.XFree"/>.</summary>
    [LibraryImport(Libraries.Xtst)]
    public static partial XRecordRange* XRecordAllocRange();

    [LibraryImport(Libraries.Xtst)]
    public static partial nuint XRecordCreateContext(nint display, int datumFlags, nuint* clients, int clientCount,
        XRecordRange** ranges, int rangeCount);

    /// <summary>Blocks until the context is disabled from another connection; we use the async form instead.</summary>
    [LibraryImport(Libraries.Xtst)]
    public static partial int XRecordEnableContext(nint display, nuint context,
        delegate* unmanaged<nint, XRecordInterceptData*, void> callback, nint closure);

    /// <summary>Starts the data flow and returns; replies are delivered by <see cref="XRecordProcessReplies"/>.</summary>
    [LibraryImport(Libraries.Xtst)]
    public static partial int XRecordEnableContextAsync(nint display, nuint context,
        delegate* unmanaged<nint, XRecordInterceptData*, void> callback, nint closure);

    /// <summary>Reads what the server has sent, without blocking, and runs the callback for each datum.</summary>
    [LibraryImport(Libraries.Xtst)]
    public static partial void XRecordProcessReplies(nint display);

    [LibraryImport(Libraries.Xtst)]
    public static partial int XRecordDisableContext(nint display, nuint context);

    [LibraryImport(Libraries.Xtst)]
    public static partial int XRecordFreeContext(nint display, nuint context);

    [LibraryImport(Libraries.Xtst)]
    public static partial void XRecordFreeData(XRecordInterceptData* data);
}

/// <summary>
/// XRecordRange: what to record. Field order and padding follow record.h on LP64
/// (two-byte ranges, a pad before each 16-bit minor range, the two Bools at offset 24): 32 bytes.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct XRecordRange
{
    public byte CoreRequestsFirst, CoreRequestsLast;
    public byte CoreRepliesFirst, CoreRepliesLast;
    public byte ExtRequestsMajorFirst, ExtRequestsMajorLast;
    public ushort ExtRequestsMinorFirst, ExtRequestsMinorLast;
    public byte ExtRepliesMajorFirst, ExtRepliesMajorLast;
    public ushort ExtRepliesMinorFirst, ExtRepliesMinorLast;
    public byte DeliveredEventsFirst, DeliveredEventsLast;
    public byte DeviceEventsFirst, DeviceEventsLast;
    public byte ErrorsFirst, ErrorsLast;
    public int ClientStarted;
    public int ClientDied;
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct XRecordInterceptData
{
    public nuint IdBase;
    public nuint ServerTime;
    public nuint ClientSeq;
    public int Category;
    public int ClientSwapped;
    public byte* Data;
    /// <summary>In 4-byte units.</summary>
    public nuint DataLength;
}
