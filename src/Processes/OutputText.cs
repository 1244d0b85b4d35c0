using System.Buffers;
using System.Text;
using System.Text.Unicode;

namespace Sandbox.Processes;

/// <summary>Bytes as a JSON string: UTF-8 text when they are UTF-8, else base64 (never mangled).</summary>
internal static class OutputText
{
    public const string Utf8Name = "utf-8", Base64Name = "base64";

    /// <param name="cut">The bytes were cut at a limit, so a last multi-byte character may be incomplete:
    /// it is dropped rather than turning the whole output into base64.</param>
    public static (string Text, string Encoding) Encode(ReadOnlySpan<byte> bytes, bool cut = false)
    {
        if (cut) bytes = bytes[..CompleteLength(bytes)];
        return Utf8.IsValid(bytes) ? (Encoding.UTF8.GetString(bytes), Utf8Name) : (Convert.ToBase64String(bytes), Base64Name);
    }

    /// <summary>The length without a trailing incomplete UTF-8 sequence (at most 3 bytes).</summary>
    internal static int CompleteLength(ReadOnlySpan<byte> bytes)
    {
        for (var back = 1; back <= Math.Min(3, bytes.Length); back++)
        {
            var b = bytes[^back];
            if ((b & 0xC0) == 0x80) continue; // continuation byte: look further back
            var need = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1;
            return need > back ? bytes.Length - back : bytes.Length;
        }
        return bytes.Length;
    }

    /// <summary>Client input (<c>stdin</c>, <c>data</c>) in its declared encoding.</summary>
    public static byte[] Decode(string? text, string? encoding, string field)
    {
        if (text is null) return [];
        switch ((encoding ?? Utf8Name).ToLowerInvariant())
        {
            case "utf-8" or "utf8" or "text":
                return Encoding.UTF8.GetBytes(text);
            case "base64":
                try { return Convert.FromBase64String(text); }
                catch (FormatException) { throw Common.SandboxException.BadField(field, "not valid base64"); }
            default:
                throw Common.SandboxException.BadField(field + "_encoding", $"'{encoding}': expected utf-8 or base64");
        }
    }
}

/// <summary>
/// Reads a pipe to its end (or until told to stop), keeping the first <c>limit</c> bytes and counting the
/// rest, so a chatty command never blocks on a full pipe nor grows the appliance past the limit.
/// </summary>
internal sealed class OutputCapture(int limit)
{
    private byte[] _buffer = [];
    private int _length;

    public long Total { get; private set; }
    public bool Truncated => Total > _length;
    public ReadOnlySpan<byte> Bytes => _buffer.AsSpan(0, _length);

    /// <summary>Counts <paramref name="data"/> and keeps what fits under the limit.</summary>
    public void Append(ReadOnlySpan<byte> data)
    {
        Total += data.Length;
        var keep = Math.Min(data.Length, limit - _length);
        if (keep <= 0) return;
        if (_length + keep > _buffer.Length)
            Array.Resize(ref _buffer, (int)Math.Min(limit, Math.Max(_buffer.Length * 2L, _length + keep)));
        data[..keep].CopyTo(_buffer.AsSpan(_length));
        _length += keep;
    }

    public async Task PumpAsync(Stream stream, CancellationToken stop)
    {
        var chunk = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            while (true)
            {
                int n;
                try { n = await stream.ReadAsync(chunk, stop).ConfigureAwait(false); }
                catch (OperationCanceledException) { return; }
                catch (IOException) { return; }
                if (n == 0) return;
                Append(chunk.AsSpan(0, n));
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
            await stream.DisposeAsync().ConfigureAwait(false);
        }
    }
}
