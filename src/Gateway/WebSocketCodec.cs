using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace Sandbox.Gateway;

/// <summary>The two framings jupyter_server speaks on <c>/api/kernels/{id}/channels</c>.</summary>
internal enum WsProtocol
{
    /// <summary>JSON text frames; messages with buffers as binary frames (uint32 BE offsets).</summary>
    Legacy,
    /// <summary><c>v1.kernel.websocket.jupyter.org</c>: every message binary, uint64 LE offsets, raw frames.</summary>
    V1,
}

/// <summary>A client message after decoding; <see cref="Channel"/> is null when the client sent none.</summary>
internal readonly record struct ClientMessage(string? Channel, WireMessage Message);

internal sealed class WsDecodeException(string message) : Exception(message);

/// <summary>Converts between WebSocket frames and <see cref="WireMessage"/>s, never touching content semantics.</summary>
internal static class WebSocketCodec
{
    public const string V1Subprotocol = "v1.kernel.websocket.jupyter.org";

    public static ClientMessage Decode(WsProtocol protocol, ReadOnlyMemory<byte> data, bool binary) =>
        protocol == WsProtocol.V1 ? DecodeV1(data.Span)
        : binary ? DecodeLegacyBinary(data)
        : DecodeLegacyJson(data, []);

    private static ClientMessage DecodeLegacyJson(ReadOnlyMemory<byte> json, byte[][] buffers)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(json); }
        catch (JsonException e) { throw new WsDecodeException("malformed JSON: " + e.Message); }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new WsDecodeException("message is not a JSON object");
            if (!root.TryGetProperty("header"u8, out var header) || header.ValueKind != JsonValueKind.Object)
                throw new WsDecodeException("message has no header object");
            string? channel = null;
            if (root.TryGetProperty("channel"u8, out var ch))
            {
                if (ch.ValueKind == JsonValueKind.String)
                {
                    // JsonDocument checks structure, not the UTF-8 inside strings: GetString is where that fails.
                    try { channel = ch.GetString(); }
                    catch (InvalidOperationException) { throw new WsDecodeException("channel is not valid UTF-8"); }
                }
                else if (ch.ValueKind != JsonValueKind.Null) throw new WsDecodeException("channel is not a string");
            }
            var message = new WireMessage(
                Raw(header), ObjectOrEmpty(root, "parent_header"u8), ObjectOrEmpty(root, "metadata"u8),
                ObjectOrEmpty(root, "content"u8), buffers);
            return new ClientMessage(channel, message);
        }
    }

    // Clients send parent_header/metadata/content as {} or null or not at all; the kernel wants objects.
    private static byte[] ObjectOrEmpty(JsonElement root, ReadOnlySpan<byte> name) =>
        root.TryGetProperty(name, out var e) && e.ValueKind == JsonValueKind.Object ? Raw(e) : WireMessage.EmptyObject;

    private static byte[] Raw(JsonElement e) => JsonMarshal.GetRawUtf8Value(e).ToArray();

    private static ClientMessage DecodeLegacyBinary(ReadOnlyMemory<byte> data)
    {
        var span = data.Span;
        if (span.Length < 8) throw new WsDecodeException("binary message too short");
        var n = BinaryPrimitives.ReadUInt32BigEndian(span);
        if (n == 0 || n > 4096 || span.Length < 4 + 4 * (long)n) throw new WsDecodeException("bad binary message header");
        var offsets = new int[n + 1];
        for (var i = 0; i < n; i++)
        {
            var off = BinaryPrimitives.ReadUInt32BigEndian(span[(4 + 4 * i)..]);
            if (off > span.Length || (i > 0 && off < offsets[i - 1])) throw new WsDecodeException("bad binary message offsets");
            offsets[i] = (int)off;
        }
        offsets[n] = span.Length;
        var buffers = new byte[n - 1][];
        for (var i = 1; i < n; i++) buffers[i - 1] = span[offsets[i]..offsets[i + 1]].ToArray();
        return DecodeLegacyJson(data[offsets[0]..offsets[1]], buffers);
    }

    private static ClientMessage DecodeV1(ReadOnlySpan<byte> span)
    {
        if (span.Length < 8) throw new WsDecodeException("v1 message too short");
        var count = BinaryPrimitives.ReadUInt64LittleEndian(span);
        // offsets: channel start, 4 JSON parts and buffers, end.
        if (count < 6 || count > 4096 || (ulong)span.Length < 8 * (count + 1)) throw new WsDecodeException("bad v1 offsets");
        var offsets = new int[count];
        for (var i = 0; i < (int)count; i++)
        {
            var off = BinaryPrimitives.ReadUInt64LittleEndian(span[(8 * (i + 1))..]);
            if (off > (ulong)span.Length || (i > 0 && (int)off < offsets[i - 1])) throw new WsDecodeException("bad v1 offsets");
            offsets[i] = (int)off;
        }
        var channel = Encoding.UTF8.GetString(span[offsets[0]..offsets[1]]);
        var parts = new byte[count - 1][];
        for (var i = 0; i < parts.Length; i++) parts[i] = span[offsets[i]..offsets[i + 1]].ToArray();
        return new ClientMessage(channel.Length == 0 ? null : channel,
            new WireMessage(parts[1], NonEmpty(parts[2]), NonEmpty(parts[3]), NonEmpty(parts[4]), parts[5..]));
    }

    private static byte[] NonEmpty(byte[] b) => b.Length == 0 ? WireMessage.EmptyObject : b;

    /// <summary>Encodes a kernel message for a client; returns the payload and whether it is a binary frame.</summary>
    public static (byte[] Payload, bool Binary) Encode(WsProtocol protocol, string channel, WireMessage m) =>
        protocol == WsProtocol.V1 ? (EncodeV1(channel, m), true)
        : m.Buffers.Length > 0 ? (EncodeLegacyBinary(channel, m), true)
        : (EncodeLegacyJson(channel, m, withBuffersKey: true), false);

    /// <summary>
    /// jupyter_server's JSON: header, top-level msg_id and msg_type, parent_header, metadata, content,
    /// buffers, channel. The JSON parts are the kernel's own bytes (its messages are signed, so trusted).
    /// </summary>
    private static byte[] EncodeLegacyJson(string channel, WireMessage m, bool withBuffersKey)
    {
        var buffer = new ArrayBufferWriter<byte>((int)Math.Min(int.MaxValue, m.Size + 256));
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { SkipValidation = true }))
        {
            w.WriteStartObject();
            w.WritePropertyName("header"u8);
            w.WriteRawValue(m.Header, skipInputValidation: true);
            w.WriteString("msg_id"u8, m.MsgId);
            w.WriteString("msg_type"u8, m.MsgType);
            w.WritePropertyName("parent_header"u8);
            w.WriteRawValue(m.Parent, skipInputValidation: true);
            w.WritePropertyName("metadata"u8);
            w.WriteRawValue(m.Metadata, skipInputValidation: true);
            w.WritePropertyName("content"u8);
            w.WriteRawValue(m.Content, skipInputValidation: true);
            if (withBuffersKey)
            {
                w.WriteStartArray("buffers"u8);
                w.WriteEndArray();
            }
            w.WriteString("channel"u8, channel);
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    private static byte[] EncodeLegacyBinary(string channel, WireMessage m)
    {
        var json = EncodeLegacyJson(channel, m, withBuffersKey: false);
        var n = 1 + m.Buffers.Length;
        long total = 4 + 4L * n + json.Length;
        foreach (var b in m.Buffers) total += b.Length;
        var result = new byte[total];
        var span = result.AsSpan();
        BinaryPrimitives.WriteUInt32BigEndian(span, (uint)n);
        var pos = 4 + 4 * n;
        BinaryPrimitives.WriteUInt32BigEndian(span[4..], (uint)pos);
        json.CopyTo(span[pos..]);
        pos += json.Length;
        for (var i = 0; i < m.Buffers.Length; i++)
        {
            BinaryPrimitives.WriteUInt32BigEndian(span[(8 + 4 * i)..], (uint)pos);
            m.Buffers[i].CopyTo(span[pos..]);
            pos += m.Buffers[i].Length;
        }
        return result;
    }

    public static byte[] EncodeV1(string channel, WireMessage m)
    {
        var parts = 4 + m.Buffers.Length;
        var count = parts + 2;
        var channelBytes = Encoding.UTF8.GetBytes(channel);
        long total = 8 * (1 + count) + channelBytes.Length + m.Size;
        var result = new byte[total];
        var span = result.AsSpan();
        BinaryPrimitives.WriteUInt64LittleEndian(span, (ulong)count);
        var pos = 8 * (1 + count);
        var slot = 1;
        void Put(ReadOnlySpan<byte> part, Span<byte> s)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(s[(8 * slot++)..], (ulong)pos);
            part.CopyTo(s[pos..]);
            pos += part.Length;
        }
        Put(channelBytes, span);
        Put(m.Header, span);
        Put(m.Parent, span);
        Put(m.Metadata, span);
        Put(m.Content, span);
        foreach (var b in m.Buffers) Put(b, span);
        BinaryPrimitives.WriteUInt64LittleEndian(span[(8 * slot)..], (ulong)pos);
        return result;
    }
}
