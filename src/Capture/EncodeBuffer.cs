namespace Sandbox.Capture;

/// <summary>
/// The screenshot service's encode buffer: the encoded bytes in 64 KiB segments (small-object heap), kept
/// for reuse while the screen is unchanged. Unlike a MemoryStream it never holds a doubled large array
/// (a 3.7 MB photo PNG held 4 MiB plus the 2 MiB it grew from, on the large-object heap until a full GC);
/// its segments are kept between encodes (the largest encode so far, at most the reuse limit), so an
/// office/photo alternation allocates nothing: dropping and regrowing them made old-generation garbage that
/// showed as a 60 → 95 MB swing over 1,000 screenshots. Used under the capture lock only (one writer at a time).
/// </summary>
internal sealed class EncodeBuffer : Stream
{
    public const int SegmentSize = 64 * 1024;
    private readonly List<byte[]> _segments = [];
    private long _length;

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => _length;
    public override long Position { get => _length; set => throw new NotSupportedException(); }

    /// <summary>Empties the buffer for the next encode; its segments are reused.</summary>
    public void Reset() => _length = 0;

    /// <summary>Empties the buffer and lets its segments go (after an encode too big to keep).</summary>
    public void Release()
    {
        _length = 0;
        _segments.Clear();
    }

    /// <summary>Segments held (for tests).</summary>
    public int SegmentCount => _segments.Count;

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            var index = (int)(_length / SegmentSize);
            var at = (int)(_length % SegmentSize);
            if (index == _segments.Count) _segments.Add(GC.AllocateUninitializedArray<byte>(SegmentSize));
            var n = Math.Min(data.Length, SegmentSize - at);
            data[..n].CopyTo(_segments[index].AsSpan(at));
            _length += n;
            data = data[n..];
        }
    }

    public override void WriteByte(byte value) => Write([value]);

    /// <summary>Writes the content to <paramref name="output"/>.</summary>
    public void WriteContentTo(Stream output)
    {
        var left = _length;
        for (var i = 0; left > 0; i++)
        {
            var n = (int)Math.Min(left, SegmentSize);
            output.Write(_segments[i], 0, n);
            left -= n;
        }
    }

    public override void Flush() { }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
