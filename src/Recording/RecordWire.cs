using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Sandbox.Recording;

/// <summary>A key, button or motion event as RECORD delivers it (the core protocol's 32-byte event).</summary>
internal readonly record struct DeviceEvent(byte Type, byte Detail, uint ServerTime, short X, short Y, ushort State);

/// <summary>A core ChangeKeyboardMapping request: <see cref="Count"/> keycodes from <see cref="FirstKeycode"/>, <see cref="PerKeycode"/> keysyms each.</summary>
internal sealed record KeymapChange(byte FirstKeycode, int Count, int PerKeycode, uint[] Keysyms);

/// <summary>
/// Decoding of the protocol bytes RECORD hands us: device events from the server, and the client
/// requests that change what keycodes mean (core ChangeKeyboardMapping and SetModifierMapping, XKB's
/// SetMap and GetKbdByName). Pure: the bytes come in as a span, nothing touches the X server.
/// </summary>
internal static class RecordWire
{
    public const byte KeyPress = 2, KeyRelease = 3, ButtonPress = 4, ButtonRelease = 5, MotionNotify = 6;
    public const byte ChangeKeyboardMapping = 100, SetModifierMapping = 118;
    public const byte XkbSetMap = 9, XkbGetKbdByName = 23;

    /// <summary>
    /// A device event from a FromServer datum, its fields read in this machine's byte order; false for
    /// anything shorter than an event or of another type. The sent-event bit is ignored.
    /// </summary>
    public static bool TryReadDeviceEvent(ReadOnlySpan<byte> data, out DeviceEvent e)
    {
        e = default;
        if (data.Length < 32) return false;
        var type = (byte)(data[0] & 0x7f);
        if (type is < KeyPress or > MotionNotify) return false;
        e = new DeviceEvent(
            Type: type,
            Detail: data[1],
            ServerTime: MemoryMarshal.Read<uint>(data[4..]),
            X: MemoryMarshal.Read<short>(data[20..]),
            Y: MemoryMarshal.Read<short>(data[22..]),
            State: MemoryMarshal.Read<ushort>(data[28..]));
        return true;
    }

    /// <summary>What a recorded client request means for the keymap.</summary>
    public enum RequestMeaning { Other, CoreKeymap, Reload }

    /// <summary>
    /// Classifies a FromClient datum. A ChangeKeyboardMapping comes back with its keysyms (byte-swapped
    /// when the client's byte order differs from ours, <paramref name="swapped"/>); SetModifierMapping and
    /// the XKB requests (major <paramref name="xkbOpcode"/>, when XKB is there) mean "reload the keymap".
    /// A truncated ChangeKeyboardMapping is <see cref="RequestMeaning.Other"/>.
    /// </summary>
    public static RequestMeaning ReadRequest(ReadOnlySpan<byte> p, bool swapped, int xkbOpcode, out KeymapChange? change)
    {
        change = null;
        if (p.Length < 1) return RequestMeaning.Other;
        var major = p[0];
        if (major == ChangeKeyboardMapping && p.Length >= 8)
        {
            // BIG-REQUESTS: a zero length field is followed by a 32-bit length, shifting the body by 4.
            var body = p[2] == 0 && p[3] == 0 ? 8 : 4;
            if (p.Length < body + 4) return RequestMeaning.Other;
            int count = p[1], first = p[body], per = p[body + 1];
            var words = count * per;
            if (per == 0 || p.Length < body + 4 + words * 4) return RequestMeaning.Other;
            var row = new uint[words];
            for (var i = 0; i < words; i++)
            {
                var word = MemoryMarshal.Read<uint>(p[(body + 4 + 4 * i)..]);
                row[i] = swapped ? BinaryPrimitives.ReverseEndianness(word) : word;
            }
            change = new KeymapChange((byte)first, count, per, row);
            return RequestMeaning.CoreKeymap;
        }
        if (major == SetModifierMapping || (xkbOpcode > 0 && major == xkbOpcode)) return RequestMeaning.Reload;
        return RequestMeaning.Other;
    }
}
