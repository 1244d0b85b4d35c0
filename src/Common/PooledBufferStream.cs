using System.Buffers;

namespace Sandbox.Common;

/// <summary>
/// A write-only stream over pooled 64 KiB segments (small-object heap, never a doubled large array as a
/// MemoryStream grows). Encoders write into it while a lock is held, and the bytes go to a (possibly slow)
/// client after the lock is released. A buffer may also be kept and refilled: <see cref="Reset"/> empties it
/// and keeps its segments for the next write (the screenshot service keeps its last encode this way, so an
/// office/photo alternation allocates nothing: dropping and regrowing the segments made old-generation
/// garbage that showed as a 60 → 95 MB swing over 1,000 screenshots); <see cref="Release"/> and Dispose give
/// them back to the pool. One writer at a time.
/// </summary>
internal sealed class PooledBufferStream : Stream
{
    public const int SegmentSize = 64 * 1024;
    private readonly List<byte[]> _segments = [];
    private long _length;

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => _length;
    public override long Position { get => _length; set => throw new NotSupportedException(); }

    /// <summary>Segments held (for tests).</summary>
    public int SegmentCount => _segments.Count;

    /// <summary>Empties the buffer for the next write; its segments are kept and reused.</summary>
    public void Reset() => _length = 0;

    /// <summary>Empties the buffer and returns its segments to the pool.</summary>
    public void Release()
    {
        foreach (var s in _segments) ArrayPool<byte>.Shared.Return(s);
        _segments.Clear();
        _length = 0;
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            var index = (int)(_length / SegmentSize);
            var at = (int)(_length % SegmentSize);
            if (index == _segments.Count) _segments.Add(ArrayPool<byte>.Shared.Rent(SegmentSize));
            var n = Math.Min(data.Length, SegmentSize - at);
            data[..n].CopyTo(_segments[index].AsSpan(at));
            _length += n;
            data = data[n..];
        }
    }

    public override void WriteByte(byte value) => Write([value]);

    /// <summary>The content, segment by segment, in order.</summary>
    private IEnumerable<ReadOnlyMemory<byte>> Content()
    {
        var left = _length;
        for (var i = 0; left > 0; i++)
        {
            var n = (int)Math.Min(left, SegmentSize);
            yield return _segments[i].AsMemory(0, n);
            left -= n;
        }
    }

    /// <summary>Writes the content to <paramref name="output"/>.</summary>
    public void WriteContentTo(Stream output)
    {
        foreach (var m in Content()) output.Write(m.Span);
    }

    public async Task WriteToAsync(Stream destination, CancellationToken ct)
    {
        foreach (var m in Content()) await destination.WriteAsync(m, ct);
    }

    /// <summary>Base64 of the whole content, for JSON answers that embed the image.</summary>
    /// <remarks>Encoded segment by segment into the string (no contiguous copy of the content: a rented array
    /// of the image's size would stay in the shared pool).</remarks>
    public string ToBase64()
    {
        var chars = checked((int)((_length + 2) / 3 * 4));
        return string.Create(chars, this, static (output, self) =>
        {
            Span<byte> carry = stackalloc byte[3];
            int carried = 0, at = 0;
            foreach (var m in self.Content())
            {
                var span = m.Span;
                if (carried > 0)
                {
                    // Complete the 3-byte group the previous segment left open.
                    int take = Math.Min(3 - carried, span.Length);
                    span[..take].CopyTo(carry[carried..]);
                    carried += take;
                    span = span[take..];
                    if (carried < 3) continue;
                    at += Encode(carry, output[at..]);
                    carried = 0;
                }
                int whole = span.Length / 3 * 3;
                at += Encode(span[..whole], output[at..]);
                span[whole..].CopyTo(carry);
                carried = span.Length - whole;
            }
            if (carried > 0) at += Encode(carry[..carried], output[at..]);
            if (at != output.Length) throw new InvalidOperationException("base64 length mismatch");
        });
    }

    private static int Encode(ReadOnlySpan<byte> bytes, Span<char> output) =>
        Convert.TryToBase64Chars(bytes, output, out var written) ? written : throw new InvalidOperationException("base64 output too small");

    public override void Flush() { }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        Release();
        base.Dispose(disposing);
    }
}
