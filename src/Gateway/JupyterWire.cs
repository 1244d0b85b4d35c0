using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Sandbox.Gateway;

/// <summary>
/// One Jupyter message as its wire frames: header, parent_header, metadata and content stay the raw
/// JSON bytes the sender produced, so the gateway never re-serialises user content.
/// </summary>
internal sealed class WireMessage(byte[] header, byte[] parent, byte[] metadata, byte[] content, byte[][] buffers)
{
    public static readonly byte[] EmptyObject = "{}"u8.ToArray();

    public byte[] Header { get; } = header;
    public byte[] Parent { get; } = parent;
    public byte[] Metadata { get; } = metadata;
    public byte[] Content { get; set; } = content;
    public byte[][] Buffers { get; } = buffers;

    private string? _msgType, _msgId;

    public string MsgType { get { ScanHeader(); return _msgType!; } }
    public string MsgId { get { ScanHeader(); return _msgId!; } }

    /// <summary>Bytes of all frames, for queue accounting and iopub data rates.</summary>
    public long Size
    {
        get
        {
            long n = Header.Length + Parent.Length + Metadata.Length + Content.Length;
            foreach (var b in Buffers) n += b.Length;
            return n;
        }
    }

    private void ScanHeader()
    {
        if (_msgType is not null) return;
        (_msgId, _msgType) = JupyterWire.ReadIdAndType(Header);
    }
}

/// <summary>Jupyter wire protocol pieces: the delimiter, HMAC signing, message construction.</summary>
internal static class JupyterWire
{
    public const string ProtocolVersion = "5.3";
    public static readonly byte[] Delimiter = "<IDS|MSG>"u8.ToArray();

    /// <summary>msg_id prefix of requests the gateway itself sends; their replies and iopub echoes never reach clients.</summary>
    public const string InternalPrefix = "sandbox-gw-";
    private static readonly byte[] InternalPrefixQuoted = Encoding.UTF8.GetBytes("\"" + InternalPrefix);

    public static string NewInternalId() => InternalPrefix + Guid.NewGuid().ToString("N");

    public static bool IsInternalParent(byte[] parent) => parent.AsSpan().IndexOf(InternalPrefixQuoted) >= 0;

    /// <summary>Reads <c>msg_id</c> and <c>msg_type</c> from a header object (top level only).</summary>
    public static (string Id, string Type) ReadIdAndType(ReadOnlySpan<byte> header)
    {
        string id = "", type = "";
        try
        {
            var reader = new Utf8JsonReader(header);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return (id, type);
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isId = reader.ValueTextEquals("msg_id"u8);
                var isType = !isId && reader.ValueTextEquals("msg_type"u8);
                reader.Read();
                if ((isId || isType) && reader.TokenType == JsonTokenType.String)
                {
                    if (isId) id = reader.GetString()!; else type = reader.GetString()!;
                }
                else reader.Skip();
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException) { }   // malformed, or a string that is not UTF-8
        return (id, type);
    }

    /// <summary>Reads a top-level string property of a small JSON object (content of a status message, a parent's msg_id).</summary>
    public static string? ReadString(ReadOnlySpan<byte> json, ReadOnlySpan<byte> name)
    {
        try
        {
            var reader = new Utf8JsonReader(json);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var match = reader.ValueTextEquals(name);
                reader.Read();
                if (match && reader.TokenType == JsonTokenType.String) return reader.GetString();
                reader.Skip();
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException) { }   // malformed, or a string that is not UTF-8
        return null;
    }

    /// <summary>Jupyter's date format: ISO-8601 UTC with six fractional digits.</summary>
    public static string FormatDate(DateTime utc) => utc.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>A header for a message the gateway originates.</summary>
    public static byte[] NewHeader(string msgId, string msgType, string session, string username = "sandbox")
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("msg_id"u8, msgId);
            w.WriteString("msg_type"u8, msgType);
            w.WriteString("username"u8, username);
            w.WriteString("session"u8, session);
            w.WriteString("date"u8, FormatDate(DateTime.UtcNow));
            w.WriteString("version"u8, ProtocolVersion);
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    public static WireMessage NewMessage(string msgType, string session, byte[] content, byte[]? parent = null, string? msgId = null) =>
        new(NewHeader(msgId ?? Guid.NewGuid().ToString("N"), msgType, session), parent ?? WireMessage.EmptyObject, WireMessage.EmptyObject, content, []);

    public static byte[] StatusContent(string state) => Encoding.UTF8.GetBytes($"{{\"execution_state\":\"{state}\"}}");

    /// <summary>Splits ZMQ frames at the delimiter; null when the message is malformed.</summary>
    public static WireMessage? Parse(List<byte[]> frames, out byte[]? signature)
    {
        signature = null;
        var i = 0;
        while (i < frames.Count && !frames[i].AsSpan().SequenceEqual(Delimiter)) i++;
        if (frames.Count - i < 6) return null;
        signature = frames[i + 1];
        var buffers = frames.Count - i - 6 > 0 ? frames.GetRange(i + 6, frames.Count - i - 6).ToArray() : [];
        return new WireMessage(frames[i + 2], frames[i + 3], frames[i + 4], frames[i + 5], buffers);
    }
}

/// <summary>
/// HMAC-SHA256 signing of the four JSON frames (the scheme jupyter_client writes in connection files).
/// Not thread-safe: each ZMQ thread owns one.
/// </summary>
internal sealed class MessageSigner : IDisposable
{
    private readonly IncrementalHash? _hmac;

    public MessageSigner(byte[] key)
    {
        if (key.Length > 0) _hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, key);
    }

    public byte[] Sign(WireMessage m)
    {
        if (_hmac is null) return [];
        _hmac.AppendData(m.Header);
        _hmac.AppendData(m.Parent);
        _hmac.AppendData(m.Metadata);
        _hmac.AppendData(m.Content);
        Span<byte> mac = stackalloc byte[32];
        _hmac.GetHashAndReset(mac);
        return Encoding.ASCII.GetBytes(Convert.ToHexStringLower(mac));
    }

    public bool Verify(WireMessage m, byte[]? signature)
    {
        if (_hmac is null) return true;
        if (signature is null) return false;
        return CryptographicOperations.FixedTimeEquals(Sign(m), signature);
    }

    public byte[][] Frames(WireMessage m)
    {
        var frames = new byte[6 + m.Buffers.Length][];
        frames[0] = JupyterWire.Delimiter;
        frames[1] = Sign(m);
        frames[2] = m.Header;
        frames[3] = m.Parent;
        frames[4] = m.Metadata;
        frames[5] = m.Content;
        m.Buffers.CopyTo(frames, 6);
        return frames;
    }

    public void Dispose() => _hmac?.Dispose();
}
