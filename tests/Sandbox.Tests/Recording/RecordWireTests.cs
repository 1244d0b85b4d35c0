using System.Buffers.Binary;
using Sandbox.Recording;

namespace Sandbox.Tests.Recording;

/// <summary>RECORD's protocol bytes, decoded from canned buffers (this machine is little-endian).</summary>
public sealed class RecordWireTests
{
    private const int XkbOpcode = 135;

    /// <summary>A 32-byte core device event as the server records it.</summary>
    private static byte[] Event(byte type, byte detail, uint time, short x, short y, ushort state)
    {
        var e = new byte[32];
        e[0] = type;
        e[1] = detail;
        BinaryPrimitives.WriteUInt32LittleEndian(e.AsSpan(4), time);
        BinaryPrimitives.WriteInt16LittleEndian(e.AsSpan(20), x);
        BinaryPrimitives.WriteInt16LittleEndian(e.AsSpan(22), y);
        BinaryPrimitives.WriteUInt16LittleEndian(e.AsSpan(28), state);
        return e;
    }

    /// <summary>
    /// ChangeKeyboardMapping: opcode 100, keycode count, length; first keycode, keysyms per keycode, 2 pad;
    /// then the keysyms, in the client's byte order. With BIG-REQUESTS the 16-bit length is 0 and a 32-bit one follows.
    /// </summary>
    private static byte[] ChangeKeyboardMapping(byte first, byte count, byte per, uint[] keysyms, bool bigEndian = false, bool bigRequest = false)
    {
        var header = bigRequest ? 12 : 8;
        var p = new byte[header + 4 * keysyms.Length];
        var words = (uint)(p.Length / 4);
        p[0] = 100;
        p[1] = count;
        if (bigRequest)
        {
            if (bigEndian) BinaryPrimitives.WriteUInt32BigEndian(p.AsSpan(4), words);
            else BinaryPrimitives.WriteUInt32LittleEndian(p.AsSpan(4), words);
        }
        else if (bigEndian) BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(2), (ushort)words);
        else BinaryPrimitives.WriteUInt16LittleEndian(p.AsSpan(2), (ushort)words);
        p[header - 4] = first;
        p[header - 3] = per;
        for (var i = 0; i < keysyms.Length; i++)
        {
            var at = p.AsSpan(header + 4 * i);
            if (bigEndian) BinaryPrimitives.WriteUInt32BigEndian(at, keysyms[i]);
            else BinaryPrimitives.WriteUInt32LittleEndian(at, keysyms[i]);
        }
        return p;
    }

    [Fact]
    public void A_key_press_is_read_with_its_time_position_and_state()
    {
        Assert.True(RecordWire.TryReadDeviceEvent(Event(2, 38, 123456789, 640, -3, 0x0005), out var e));
        Assert.Equal(new DeviceEvent(RecordWire.KeyPress, 38, 123456789, 640, -3, 0x0005), e);
    }

    [Fact]
    public void The_sent_event_bit_is_ignored_and_buttons_and_motion_are_device_events()
    {
        Assert.True(RecordWire.TryReadDeviceEvent(Event(0x80 | 4, 1, 7, 10, 20, 0), out var press));
        Assert.Equal(RecordWire.ButtonPress, press.Type);
        Assert.True(RecordWire.TryReadDeviceEvent(Event(6, 0, 8, 1919, 1079, 0x100), out var motion));
        Assert.Equal((RecordWire.MotionNotify, (short)1919, (short)1079, (ushort)0x100), (motion.Type, motion.X, motion.Y, motion.State));
    }

    [Fact]
    public void Other_events_and_short_data_are_not_device_events()
    {
        Assert.False(RecordWire.TryReadDeviceEvent(Event(7, 0, 0, 0, 0, 0), out _));    // EnterNotify
        Assert.False(RecordWire.TryReadDeviceEvent(Event(1, 0, 0, 0, 0, 0), out _));    // a reply
        Assert.False(RecordWire.TryReadDeviceEvent(Event(2, 38, 1, 0, 0, 0).AsSpan(0, 28), out _));
        Assert.False(RecordWire.TryReadDeviceEvent([], out _));
    }

    [Fact]
    public void A_keyboard_mapping_change_in_our_byte_order_is_read_row_by_row()
    {
        uint[] keysyms = [0x61, 0x41, 0x62, 0x42, 0x010020ac, 0];
        var meaning = RecordWire.ReadRequest(ChangeKeyboardMapping(200, 3, 2, keysyms), swapped: false, XkbOpcode, out var change);
        Assert.Equal(RecordWire.RequestMeaning.CoreKeymap, meaning);
        Assert.Equal((200, 3, 2), (change!.FirstKeycode, change.Count, change.PerKeycode));
        Assert.Equal(keysyms, change.Keysyms);
    }

    [Fact]
    public void A_byte_swapped_client_has_its_keysyms_swapped_back()
    {
        uint[] keysyms = [0x01000e01, 0xff0d];
        var meaning = RecordWire.ReadRequest(ChangeKeyboardMapping(9, 1, 2, keysyms, bigEndian: true), swapped: true, XkbOpcode, out var change);
        Assert.Equal(RecordWire.RequestMeaning.CoreKeymap, meaning);
        Assert.Equal(keysyms, change!.Keysyms);
    }

    [Fact]
    public void A_big_request_has_its_body_after_the_32_bit_length()
    {
        uint[] keysyms = [0x63, 0x43, 0x64, 0x44];
        var meaning = RecordWire.ReadRequest(ChangeKeyboardMapping(100, 2, 2, keysyms, bigRequest: true), swapped: false, XkbOpcode, out var change);
        Assert.Equal(RecordWire.RequestMeaning.CoreKeymap, meaning);
        Assert.Equal((100, 2, 2), (change!.FirstKeycode, change.Count, change.PerKeycode));
        Assert.Equal(keysyms, change.Keysyms);
    }

    [Fact]
    public void A_byte_swapped_big_request_is_read_too()
    {
        uint[] keysyms = [0x010003b1, 0x01000391];
        var request = ChangeKeyboardMapping(250, 1, 2, keysyms, bigEndian: true, bigRequest: true);
        Assert.Equal(RecordWire.RequestMeaning.CoreKeymap, RecordWire.ReadRequest(request, swapped: true, XkbOpcode, out var change));
        Assert.Equal(keysyms, change!.Keysyms);
    }

    [Fact]
    public void A_truncated_keyboard_mapping_change_or_one_without_keysyms_is_ignored()
    {
        var whole = ChangeKeyboardMapping(20, 2, 2, [1, 2, 3, 4]);
        Assert.Equal(RecordWire.RequestMeaning.Other, RecordWire.ReadRequest(whole.AsSpan(0, whole.Length - 4), false, XkbOpcode, out var change));
        Assert.Null(change);
        Assert.Equal(RecordWire.RequestMeaning.Other, RecordWire.ReadRequest(whole.AsSpan(0, 4), false, XkbOpcode, out _));
        Assert.Equal(RecordWire.RequestMeaning.Other, RecordWire.ReadRequest(ChangeKeyboardMapping(20, 2, 0, []), false, XkbOpcode, out _));
    }

    [Fact]
    public void Modifier_mapping_and_xkb_requests_mean_reload_and_other_requests_nothing()
    {
        Assert.Equal(RecordWire.RequestMeaning.Reload, RecordWire.ReadRequest([118, 2, 3, 0], false, XkbOpcode, out _));
        Assert.Equal(RecordWire.RequestMeaning.Reload, RecordWire.ReadRequest([XkbOpcode, 9, 0, 0], false, XkbOpcode, out _));
        Assert.Equal(RecordWire.RequestMeaning.Other, RecordWire.ReadRequest([XkbOpcode, 9, 0, 0], false, xkbOpcode: -1, out _));
        Assert.Equal(RecordWire.RequestMeaning.Other, RecordWire.ReadRequest([1, 0, 8, 0], false, XkbOpcode, out _));
        Assert.Equal(RecordWire.RequestMeaning.Other, RecordWire.ReadRequest([], false, XkbOpcode, out _));
    }
}
