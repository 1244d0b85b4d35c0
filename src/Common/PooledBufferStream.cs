using System.Buffers;

namespace Sandbox.Common;

/// <summary>
/// A write-only stream over pooled 64 KiB chunks. Encoders write into it while a lock is held, and the
/// bytes go to a (possibly slow) client after the lock is released, without large-object-heap churn.
/// </summary>
internal sealed class PooledBufferStream : Stream
{
    private const int ChunkSize = 64 * 1024;
    private readonly List<byte[]> _chunks = [];
    private int _lastUsed = ChunkSize;
    private long _length;

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => _length;
    public override long Position { get => _length; set => throw new NotSupportedException(); }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            if (_lastUsed == ChunkSize)
            {
                _chunks.Add(ArrayPool<byte>.Shared.Rent(ChunkSize));
                _lastUsed = 0;
            }
            var n = Math.Min(data.Length, ChunkSize - _lastUsed);
            data[..n].CopyTo(_chunks[^1].AsSpan(_lastUsed));
            _lastUsed += n;
            _length += n;
            data = data[n..];
        }
    }

    public override void WriteByte(byte value) => Write([value]);

    public async Task WriteToAsync(Stream destination, CancellationToken ct)
    {
        for (var i = 0; i < _chunks.Count; i++)
        {
            var n = i == _chunks.Count - 1 ? _lastUsed : ChunkSize;
            await destination.WriteAsync(_chunks[i].AsMemory(0, n), ct);
        }
    }

    /// <summary>Base64 of the whole content, for JSON answers that embed the image.</summary>
    public string ToBase64()
    {
        var all = ArrayPool<byte>.Shared.Rent((int)_length);
        try
        {
            var at = 0;
            for (var i = 0; i < _chunks.Count; i++)
            {
                var n = i == _chunks.Count - 1 ? _lastUsed : ChunkSize;
                _chunks[i].AsSpan(0, n).CopyTo(all.AsSpan(at));
                at += n;
            }
            return Convert.ToBase64String(all, 0, at);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(all);
        }
    }

    public override void Flush() { }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        foreach (var c in _chunks) ArrayPool<byte>.Shared.Return(c);
        _chunks.Clear();
        _length = 0;
        _lastUsed = ChunkSize;
        base.Dispose(disposing);
    }
}
