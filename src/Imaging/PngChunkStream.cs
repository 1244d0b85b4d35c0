using System.Buffers;
using System.Buffers.Binary;
using System.IO.Hashing;
using Sandbox.Common;

namespace Sandbox.Imaging;

/// <summary>
/// A write-only stream that cuts whatever is written to it into PNG chunks of one type (IDAT) of at
/// most <see cref="ChunkSize"/> data bytes each, so the deflate output never has to be held whole.
/// </summary>
/// <remarks>
/// The chunk is assembled in one pooled buffer laid out as length|type|data|crc, so each chunk
/// reaches the underlying stream in a single write. The CRC is appended as data arrives, while the
/// bytes are still in cache. <see cref="Flush()"/> deliberately does nothing: deflate flushes would
/// otherwise produce runts; <see cref="Complete"/> emits the last, partial chunk.
/// </remarks>
internal sealed class PngChunkStream : WriteOnlyStream
{
    public const int DefaultChunkSize = 64 * 1024;

    private readonly Stream _output;
    private readonly uint _type;
    private readonly Crc32 _crc = new();
    private byte[]? _buffer;
    private int _filled;

    public PngChunkStream(Stream output, ReadOnlySpan<byte> chunkType, int chunkSize = DefaultChunkSize)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (chunkType.Length != 4) throw new ArgumentException("A chunk type is four ASCII letters.", nameof(chunkType));
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkSize, 1);
        _output = output;
        _type = BinaryPrimitives.ReadUInt32BigEndian(chunkType);
        ChunkSize = chunkSize;
        _buffer = ArrayPool<byte>.Shared.Rent(chunkSize + 12);
        StartChunk();
    }

    public int ChunkSize { get; }

    /// <summary>Data bytes of the chunk being assembled (not yet written to the output).</summary>
    public int Pending => _filled;

    /// <summary>Chunks written so far.</summary>
    public int ChunkCount { get; private set; }

    public override bool CanWrite => _buffer is not null;

    public override void Write(ReadOnlySpan<byte> data)
    {
        var buffer = _buffer ?? throw new ObjectDisposedException(nameof(PngChunkStream));
        while (!data.IsEmpty)
        {
            int n = Math.Min(data.Length, ChunkSize - _filled);
            var target = buffer.AsSpan(8 + _filled, n);
            data[..n].CopyTo(target);
            _crc.Append(target);
            _filled += n;
            data = data[n..];
            if (_filled == ChunkSize) EmitChunk();
        }
    }

    /// <summary>Writes the pending partial chunk, if any, and flushes the output.</summary>
    public void Complete()
    {
        if (_buffer is null) throw new ObjectDisposedException(nameof(PngChunkStream));
        if (_filled > 0) EmitChunk();
        _output.Flush();
    }

    private void StartChunk()
    {
        _filled = 0;
        _crc.Reset();
        Span<byte> type = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(type, _type);
        _crc.Append(type);
    }

    private void EmitChunk()
    {
        var buffer = _buffer!;
        BinaryPrimitives.WriteInt32BigEndian(buffer, _filled);
        BinaryPrimitives.WriteUInt32BigEndian(buffer.AsSpan(4), _type);
        BinaryPrimitives.WriteUInt32BigEndian(buffer.AsSpan(8 + _filled), _crc.GetCurrentHashAsUInt32());
        _output.Write(buffer, 0, _filled + 12);
        ChunkCount++;
        StartChunk();
    }

    protected override void Dispose(bool disposing)
    {
        // Dispose does not emit: an encoder that failed half-way must not append a plausible tail.
        var buffer = Interlocked.Exchange(ref _buffer, null);
        if (buffer is not null) ArrayPool<byte>.Shared.Return(buffer);
        base.Dispose(disposing);
    }
}
