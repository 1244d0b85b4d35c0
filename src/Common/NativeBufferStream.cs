using System.Buffers;
using System.Runtime.InteropServices;

namespace Sandbox.Common;

/// <summary>
/// A write-only stream over one native buffer (off the GC heap; docs/performance.md, "Memory"). Encoders write
/// into it while a lock is held, and the bytes go to a (possibly slow) client after the lock is released. The
/// buffer grows by doubling from 256 KiB: above glibc's mmap threshold (fixed at 128 KiB at start-up) it is its
/// own mapping, so growing is an <c>mremap</c> (no copy) and freeing it returns the pages at once. A buffer may
/// be kept and refilled: <see cref="Reset"/> empties it and keeps its memory for the next write (the
/// screenshot service keeps its last encode this way, so an office/photo alternation allocates nothing);
/// <see cref="Release"/>, Dispose and, for a forgotten one, the finalizer free it. It is also an
/// <see cref="IBufferWriter{T}"/>, so <c>Utf8JsonWriter</c> writes large JSON-RPC answers (MCP tool results with
/// images) straight into it.
/// </summary>
/// <remarks>
/// Measured: the kept encode as 64 KiB arrays on the GC heap (3.7 MB for a photo) was promoted to the old
/// generation by a gen1 collection now and then, and the regions it left stayed committed: RSS stepped up by
/// 3.2 MB over 1,000 screenshots. Natively held, the GC heap keeps only small objects. One writer at a time.
/// </remarks>
internal sealed class NativeBufferStream : WriteOnlyStream, IBufferWriter<byte>
{
    /// <summary>The size of the pieces <see cref="WriteToAsync"/> hands to the destination.</summary>
    public const int SegmentSize = 64 * 1024;
    private const nuint InitialCapacity = 256 * 1024;
    private unsafe byte* _data;
    private nuint _capacity;
    private long _length;

    ~NativeBufferStream() => Release();

    public override long Length => _length;
    public override long Position { get => _length; set => throw new NotSupportedException(); }

    /// <summary>Bytes of native memory held (the content and the spare memory past it).</summary>
    public long Capacity => (long)_capacity;

    /// <summary>
    /// The most bytes this buffer's memory ever held (its content or what was written with <see cref="Spare"/>):
    /// the pages below it are resident, so using them again costs no page faults.
    /// </summary>
    public long HighWater { get; private set; }

    /// <summary>Grows the capacity to at least <paramref name="bytes"/> (by doubling); everything in the memory so far is kept, also past the content.</summary>
    public unsafe void Reserve(long bytes)
    {
        if (bytes > int.MaxValue) throw new IOException("a buffered answer is limited to 2 GiB");
        if ((nuint)bytes <= _capacity) return;
        var capacity = Math.Max(_capacity * 2, InitialCapacity);
        while (capacity < (nuint)bytes) capacity *= 2;
        _data = (byte*)NativeMemory.Realloc(_data, capacity);   // realloc keeps the whole old block, not only the content
        _capacity = capacity;
    }

    /// <summary>
    /// Scratch memory past the content: <paramref name="length"/> bytes at <paramref name="offset"/> from the start of
    /// the buffer, within the capacity and at or past <see cref="Length"/>. A writer may fill it while another appends
    /// below it (the parallel PNG encoder's last band); it is kept across <see cref="Reserve"/> but not across writes
    /// that reach it. Valid until the buffer grows.
    /// </summary>
    public unsafe Span<byte> Spare(long offset, int length)
    {
        if (offset < 0 || length < 0 || (nuint)(offset + length) > _capacity) throw new ArgumentOutOfRangeException(nameof(offset));
        return new Span<byte>(_data + offset, length);
    }

    /// <summary>Records that memory up to <paramref name="end"/> was written through <see cref="Spare"/>.</summary>
    public void NoteWritten(long end) => HighWater = Math.Max(HighWater, end);

    /// <summary>Empties the buffer for the next write; its memory is kept and reused.</summary>
    public void Reset() => _length = 0;

    /// <summary>Empties the buffer and frees its memory.</summary>
    public unsafe void Release()
    {
        var data = _data;
        _data = null;
        _capacity = 0;
        _length = 0;
        HighWater = 0;
        NativeMemory.Free(data);
    }

    public override unsafe void Write(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty) return;
        var needed = checked(_length + data.Length);
        if ((nuint)needed > _capacity) Reserve(needed);
        data.CopyTo(new Span<byte>(_data + _length, data.Length));
        _length = needed;
        if (needed > HighWater) HighWater = needed;
    }

    // IBufferWriter: the free space after the content, valid until the next write, Reset or Release.
    public void Advance(int count)
    {
        if (count < 0 || (nuint)(_length + count) > _capacity) throw new ArgumentOutOfRangeException(nameof(count));
        _length += count;
        if (_length > HighWater) HighWater = _length;
    }

    public unsafe Memory<byte> GetMemory(int sizeHint = 0)
    {
        Reserve(_length + Math.Max(sizeHint, 1));
        return new NativeSlice(_data + _length, (int)(_capacity - (nuint)_length)).Memory;
    }

    public unsafe Span<byte> GetSpan(int sizeHint = 0)
    {
        Reserve(_length + Math.Max(sizeHint, 1));
        return new Span<byte>(_data + _length, (int)(_capacity - (nuint)_length));
    }

    /// <summary>The bytes written so far; valid until the next write, Reset or Release.</summary>
    public unsafe ReadOnlySpan<byte> Content => new(_data, (int)_length);

    /// <summary>The bytes written so far as memory (for async writes and serializers); valid until the next write, Reset or Release.</summary>
    public unsafe ReadOnlyMemory<byte> ContentMemory => new NativeSlice(_data, (int)_length).Memory;

    /// <summary>Writes the content to <paramref name="output"/> in <see cref="SegmentSize"/> pieces.</summary>
    /// <remarks>Measured: one 3.7 MB write to a file took ~2.5 ms longer than 64 KiB pieces (ext4 on this
    /// kernel sizes its page-cache folios by the write, and large ones cost more to get).</remarks>
    public void WriteContentTo(Stream output)
    {
        var content = Content;
        for (var at = 0; at < content.Length; at += SegmentSize)
            output.Write(content.Slice(at, Math.Min(SegmentSize, content.Length - at)));
    }

    /// <summary>
    /// Writes the content to <paramref name="destination"/> in <see cref="SegmentSize"/> pieces. The buffer must
    /// stay alive until this completes (the destination copies what it is given: Kestrel's response pipe does).
    /// </summary>
    public async Task WriteToAsync(Stream destination, CancellationToken ct)
    {
        if (_length == 0) return;
        var memory = ContentMemory;
        for (var at = 0; at < memory.Length; at += SegmentSize)
            await destination.WriteAsync(memory.Slice(at, Math.Min(SegmentSize, memory.Length - at)), ct);
    }

    /// <summary>Base64 of the whole content, for JSON answers that embed the image.</summary>
    public string ToBase64() => Convert.ToBase64String(Content);

    protected override void Dispose(bool disposing)
    {
        Release();
        base.Dispose(disposing);
    }

    /// <summary>The native content as <see cref="Memory{T}"/> for async writes; owns nothing.</summary>
    private sealed unsafe class NativeSlice(byte* data, int length) : MemoryManager<byte>
    {
        public override Span<byte> GetSpan() => new(data, length);
        public override MemoryHandle Pin(int elementIndex = 0) => new(data + elementIndex);
        public override void Unpin() { }
        protected override void Dispose(bool disposing) { }
    }
}
