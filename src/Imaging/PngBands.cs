using System.Buffers.Binary;
using System.IO.Compression;
using Sandbox.Common;

namespace Sandbox.Imaging;

/// <summary>
/// The parallel PNG encoder: the frame is cut into horizontal bands, each filtered and deflated on its
/// own thread by its own compressor, and the pieces joined into ONE standard zlib stream in one IDAT
/// sequence, which every decoder reads like any other PNG.
/// </summary>
/// <remarks>
/// <para>How the join works. A band's compressor starts with an empty window, so its output never
/// refers back into an earlier band. Every band but the last ends with a flush: zlib's sync flush,
/// which emits an empty stored block and leaves the stream byte-aligned, no final-block bit set. (A
/// full flush differs only in also resetting the compressor's window for data that would follow;
/// nothing follows here, so the two produce the same bytes for a band.) What the compressor then
/// writes on close (the empty final block and the band's adler32) is cut off and kept aside. The last
/// band is closed normally, so its final block ends the stream. The zlib header is the first band's
/// two bytes (all bands use one level), and the trailer is the adler32 of all filtered rows, combined
/// from the bands' adler32s with zlib's <c>adler32_combine</c> arithmetic.</para>
/// <para>Memory: the first band streams straight into the IDAT chunks. When the output is a native
/// <see cref="NativeBufferStream"/> (the screenshot service's encode buffer), the last band deflates into
/// that buffer's memory above where the bands before it will end (a region placed from the previous
/// encode's sizes) and is moved down at the join, so it needs no memory of its own; if the first band
/// outgrows the plan, its excess goes aside and the region is copied out before the join (the bytes stay
/// the same). Other bands (and the last one for other outputs) are held in native staging memory until
/// their turn (the compressed size, not the raw size), off the GC heap; one such buffer per band is kept
/// for the next encode (up to <see cref="StagingKeptMax"/>): freeing it each time made the next encode
/// fault its pages in again, ~2 µs per 4 KiB page here (0.8 ms for a photo's second band)
/// (docs/performance.md, "Memory" and "Third round: memory").</para>
/// <para>Filters: a band's first row is filtered against the raw row above it (converted again by
/// that band's worker), so Up/Average/Paeth see the same prior row as in the serial encoder.</para>
/// </remarks>
internal static unsafe class PngBands
{
    /// <summary>Largest band staging buffer kept between encodes, bytes.</summary>
    internal const int StagingKeptMax = 8 << 20;

    /// <summary>Staging buffers kept between encodes, by band index (taken and put back atomically).</summary>
    private static readonly NativeBufferStream?[] s_kept = new NativeBufferStream?[64];

    /// <summary>Joins that read the last band from the output buffer's region, and joins that copied it out first (for tests).</summary>
    internal static long InPlaceJoins, SpilledJoins;

    /// <summary>Bytes before the last band in the previous encode (IDAT framing included) and the last band's size: where the next one's region goes.</summary>
    private static long s_lastPrefix, s_lastBand;

    public static void Encode(BgraImage image, Stream output, int level, int candidates, bool alpha, int bands)
    {
        int width = image.Width, height = image.Height, stride = image.Stride, pixelBytes = image.Pixels.Length;
        int bpp = alpha ? 4 : 3, rowBytes = width * bpp;
        var sinks = new BandSink[bands];
        // Into a native buffer, the last band deflates into that buffer's own memory past where the bands before
        // it will end (a region placed by the previous encode's sizes), and is moved down into place at the join:
        // no staging memory of its own (docs/performance.md, "Third round: memory").
        var buffer = output as NativeBufferStream;
        var region = buffer is null ? null : Region.Plan(buffer);
        var guarded = region is null ? null : new GuardedOutput(buffer!, region.Start);
        using var idat = new PngChunkStream(guarded ?? output, "IDAT"u8);
        try
        {
            fixed (byte* p = image.Pixels)
            {
                var pixels = (nint)p;
                for (int i = 0; i < bands; i++)
                    sinks[i] = new BandSink(i == 0 ? idat : null, i, i == bands - 1 ? region : null);
                BandWorkers.Run(bands, i =>
                {
                    int y0 = (int)((long)height * i / bands), y1 = (int)((long)height * (i + 1) / bands);
                    var view = new BgraImage(new Span<byte>((byte*)pixels, pixelBytes), width, height, stride);
                    EncodeBand(view, y0, y1, level, candidates, alpha, bpp, rowBytes, sinks[i], last: i == bands - 1);
                });
            }

            var last = sinks[bands - 1];
            if (region is not null)
            {
                buffer!.NoteWritten(region.Start + last.RegionUsed);
                long middle = 0;
                for (int i = 1; i < bands - 1; i++) middle += sinks[i].Kept;
                long before = buffer.Length + guarded!.AsideLength + idat.Pending + middle;   // where the last band's bytes start, less framing
                long chunks = (idat.Pending + middle + last.Kept + 4) / idat.ChunkSize + 2;
                Volatile.Write(ref s_lastPrefix, before - region.EncodeStart);
                Volatile.Write(ref s_lastBand, last.Kept);
                // The join writes below what it has not read yet only if everything before the last band, framed, ends
                // below the region; else (a first band that outgrew the plan, or more middle bytes) the region is copied out first.
                if (guarded.Overflowed || before + 12 * chunks > region.Start)
                {
                    last.SpillRegion();
                    guarded.Drain();
                    Interlocked.Increment(ref SpilledJoins);
                }
                else
                {
                    buffer.Reserve(before + last.Kept + 4 + 12 * chunks);   // no growth (a move) while the region is read
                    Interlocked.Increment(ref InPlaceJoins);
                }
                guarded.Direct = true;
            }

            uint adler = 1;
            for (int i = 0; i < bands; i++)
            {
                var sink = sinks[i];
                if (i > 0) sink.CopyDeflateTo(idat);
                long raw = (long)(((long)height * (i + 1) / bands) - ((long)height * i / bands)) * (1 + rowBytes);
                adler = Adler32Combine(adler, sink.Adler, raw);
            }
            Span<byte> trailer = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(trailer, adler);
            idat.Write(trailer);
            idat.Complete();
        }
        finally
        {
            foreach (var sink in sinks) sink?.Release();
            guarded?.Discard();   // an encode that failed half-way: nothing held
        }
    }

    /// <summary>
    /// Where in the output buffer the last band deflates: from <see cref="Start"/> to the end of the capacity. Placed
    /// past what the bands before it wrote last time (plus an eighth and 64 KiB), and at least halfway up the memory
    /// the buffer already used (its pages are resident: a smaller screen after a larger one touches no new page).
    /// </summary>
    private sealed class Region(NativeBufferStream buffer, long encodeStart, long start)
    {
        public NativeBufferStream Buffer { get; } = buffer;
        public long EncodeStart { get; } = encodeStart;
        public long Start { get; } = start;
        public int Length => (int)Math.Min(int.MaxValue, Buffer.Capacity - Start);

        public static Region Plan(NativeBufferStream buffer)
        {
            long at = buffer.Length;
            long prefix = Volatile.Read(ref s_lastPrefix), band = Volatile.Read(ref s_lastBand);
            long start = at + Math.Max(prefix + prefix / 8 + (64 << 10), (buffer.HighWater - at) / 2);
            buffer.Reserve(start + Math.Max(band + band / 8 + (64 << 10), 256 << 10));
            return new Region(buffer, at, start);
        }
    }

    /// <summary>
    /// The first band's way into the output buffer while the last band fills the region above it: bytes that would
    /// reach the region go aside (in order) and are appended by <see cref="Drain"/> once the region was copied out.
    /// </summary>
    private sealed class GuardedOutput(NativeBufferStream buffer, long limit) : WriteOnlyStream
    {
        private NativeBufferStream? _aside;

        public bool Overflowed => _aside is not null;

        public long AsideLength => _aside?.Length ?? 0;

        /// <summary>Set once the region is safe from writes: everything goes straight to the buffer.</summary>
        public bool Direct { get; set; }

        public override void Write(ReadOnlySpan<byte> data)
        {
            if (Direct || (_aside is null && buffer.Length + data.Length <= limit)) buffer.Write(data);
            else (_aside ??= new NativeBufferStream()).Write(data);
        }

        /// <summary>Appends what went aside to the buffer and frees it.</summary>
        public void Drain()
        {
            var aside = _aside;
            if (aside is null) return;
            _aside = null;
            buffer.Write(aside.Content);
            aside.Dispose();
        }

        public void Discard() => Interlocked.Exchange(ref _aside, null)?.Dispose();
    }

    private static void EncodeBand(BgraImage image, int y0, int y1, int level, int candidates, bool alpha, int bpp, int rowBytes,
        BandSink sink, bool last)
    {
        using var rows = new PngEncoder.RowBuffers(rowBytes, candidates);
        if (y0 > 0)
        {
            // The prior row of the band's first row, as the serial encoder would have it.
            PngFilters.ConvertRow(image.Row(y0 - 1), rows.Current, alpha);
            rows.Advance();
        }
        var zlib = new ZLibStream(sink, new ZLibCompressionOptions { CompressionLevel = level }, leaveOpen: true);
        try
        {
            PngEncoder.WriteRows(image, y0, y1, rows, zlib, candidates, bpp, alpha);
            if (!last)
            {
                zlib.Flush();   // Z_SYNC_FLUSH: byte-aligned, no final block
                sink.Seal();    // what close writes now (final block + adler32) goes aside
            }
        }
        finally
        {
            zlib.Dispose();
        }
        sink.Finish(last);
    }

    /// <summary>zlib's adler32_combine: the adler32 of A‖B from adler32(A), adler32(B) and B's length.</summary>
    internal static uint Adler32Combine(uint adler1, uint adler2, long length2)
    {
        const uint Base = 65521;
        uint rem = (uint)(length2 % Base);
        uint sum1 = adler1 & 0xffff;
        uint sum2 = (uint)((ulong)rem * sum1 % Base);
        sum1 += (adler2 & 0xffff) + Base - 1;
        sum2 += (adler1 >> 16) + (adler2 >> 16) + Base - rem;
        if (sum1 >= Base) sum1 -= Base;
        if (sum1 >= Base) sum1 -= Base;
        if (sum2 >= Base << 1) sum2 -= Base << 1;
        if (sum2 >= Base) sum2 -= Base;
        return sum1 | (sum2 << 16);
    }

    /// <summary>
    /// Where one band's zlib stream goes: straight into the IDAT chunks (the first band), into the output buffer's
    /// region (the last band, when the output is a native buffer; past the region's end into a staging buffer), or
    /// into a native staging <see cref="NativeBufferStream"/> (the others), kept for the next encode of this band or
    /// freed by <see cref="Release"/>. Drops the zlib header of every band but the first and keeps the trailing
    /// adler32 aside.
    /// </summary>
    private sealed class BandSink(Stream? direct, int index, Region? region) : WriteOnlyStream
    {
        private NativeBufferStream? _staging;
        private long _length;                  // deflate bytes kept (header excluded): in the region first, then in staging
        private int _regionUsed;
        private bool _regionFull;
        private int _headerLeft = 2;
        private bool _sealed;
        private readonly byte[] _tail = new byte[64];   // bytes written after Seal (or the last few of the last band)
        private int _tailFill;
        private long _keepUntil = -1;          // for the last band: everything but the adler32

        public uint Adler { get; private set; }

        /// <summary>Deflate bytes this band contributes to the stream.</summary>
        public long Kept => _keepUntil >= 0 ? _keepUntil : _length;

        /// <summary>Bytes of the output buffer's region this band wrote.</summary>
        public int RegionUsed => _regionUsed;

        public void Seal() => _sealed = true;

        private NativeBufferStream Staging => _staging ??= region is null && (uint)index < (uint)s_kept.Length
            ? Interlocked.Exchange(ref s_kept[index], null) ?? new NativeBufferStream() : new NativeBufferStream();

        public override void Write(ReadOnlySpan<byte> data)
        {
            if (_headerLeft > 0)
            {
                int h = Math.Min(_headerLeft, data.Length);
                if (direct is not null) direct.Write(data[..h]);   // the stream's header, once
                _headerLeft -= h;
                data = data[h..];
            }
            if (data.IsEmpty) return;
            if (_sealed)
            {
                // Close of a non-final band: an empty final block and the adler32, a handful of bytes.
                if (_tailFill + data.Length > _tail.Length) throw new InvalidOperationException("unexpected deflate output after the flush");
                data.CopyTo(_tail.AsSpan(_tailFill));
                _tailFill += data.Length;
                return;
            }
            Append(data);
        }

        private void Append(ReadOnlySpan<byte> data)
        {
            if (direct is not null)
            {
                // The first band, never the last one (there are two bands at least): straight through.
                direct.Write(data);
            }
            else if (region is not null && !_regionFull && _regionUsed + data.Length <= region.Length)
            {
                data.CopyTo(region.Buffer.Spare(region.Start + _regionUsed, data.Length));
                _regionUsed += data.Length;
            }
            else
            {
                _regionFull = true;   // the rest in order after the region's bytes
                Staging.Write(data);
            }
            _length += data.Length;
        }

        /// <summary>After the compressor closed: takes the adler32 (the last four bytes written) out of the kept bytes.</summary>
        public void Finish(bool last)
        {
            if (!last)
            {
                // Written after the flush: [empty final block][adler32].
                if (!_sealed || _tailFill < 4) throw new InvalidOperationException("zlib stream ended without its adler32");
                Adler = BinaryPrimitives.ReadUInt32BigEndian(_tail.AsSpan(_tailFill - 4));
                return;
            }
            // The last band (always held): the final block stays, the last four bytes are the adler32.
            if (direct is not null || _length < 4) throw new InvalidOperationException("zlib stream ended without its adler32");
            Span<byte> adler = stackalloc byte[4];
            for (int k = 0; k < 4; k++) adler[k] = ByteAt(_length - 4 + k);
            Adler = BinaryPrimitives.ReadUInt32BigEndian(adler);
            _keepUntil = _length - 4;
        }

        private byte ByteAt(long at) => at < _regionUsed ? region!.Buffer.Spare(region.Start + at, 1)[0] : _staging!.Content[(int)(at - _regionUsed)];

        /// <summary>Moves the region's bytes into this band's staging (before what is there), so the output buffer may be written over them.</summary>
        public void SpillRegion()
        {
            if (_regionUsed == 0) return;
            var staging = new NativeBufferStream();
            staging.Write(region!.Buffer.Spare(region.Start, _regionUsed));
            if (_staging is not null)
            {
                staging.Write(_staging.Content);
                _staging.Dispose();
            }
            _staging = staging;
            _regionUsed = 0;
        }

        public void CopyDeflateTo(Stream target)
        {
            long keep = Kept;
            if (_regionUsed > 0)
            {
                // Read in pieces, each taken after the writes before it: the writes land below what is still unread.
                int fromRegion = (int)Math.Min(keep, _regionUsed);
                for (int at = 0; at < fromRegion; at += 1 << 16)
                    target.Write(region!.Buffer.Spare(region.Start + at, Math.Min(1 << 16, fromRegion - at)));
                keep -= fromRegion;
            }
            if (keep <= 0) return;
            var content = _staging!.Content[..(int)keep];
            for (int at = 0; at < content.Length; at += 1 << 20)
                target.Write(content.Slice(at, Math.Min(1 << 20, content.Length - at)));
        }

        public void Release()
        {
            _length = 0;
            _regionUsed = 0;
            var staging = _staging;
            if (staging is null) return;
            _staging = null;
            staging.Reset();
            // A middle band's staging is kept for the next encode of this band when small enough and the slot is free;
            // the last band's (its region overflowed) and the rest are freed.
            if (region is null && staging.Capacity <= StagingKeptMax && (uint)index < (uint)s_kept.Length
                && Interlocked.CompareExchange(ref s_kept[index], staging, null) == null)
                return;
            staging.Dispose();
        }
    }

    /// <summary>
    /// A few long-lived threads (cores − 1, made on first use) that run bands; the caller runs bands too,
    /// taking queued ones itself when the workers are busy, so an encode never waits for a free worker.
    /// Measured: with the thread pool (Parallel.For) bands ran on ever-changing pool threads, each
    /// keeping its own glibc malloc arena holding freed deflate states, and RSS after the screenshot
    /// bench was ~15 MB higher than serial; fixed threads bound that to one arena each.
    /// </summary>
    private static class BandWorkers
    {
        // A plain monitor-guarded queue: BlockingCollection's SemaphoreSlim spun (sched_yield) each time an idle
        // worker waited for the next band, ~1.5 % of the appliance's CPU in a changed-screen screenshot profile.
        private static readonly Queue<WorkItem> Pending = new();
        private static int s_started;

        private sealed class WorkItem(Action<int> body, int index, CountdownEvent done)
        {
            private int _taken;
            public bool TryRun()
            {
                if (Interlocked.Exchange(ref _taken, 1) != 0) return false;
                try { body(index); }
                catch (Exception e) { Error = e; }
                finally { done.Signal(); }
                return true;
            }
            public Exception? Error { get; private set; }
        }

        public static void Run(int count, Action<int> body)
        {
            EnsureWorkers(Math.Min(count - 1, Math.Max(1, Environment.ProcessorCount - 1)));
            using var done = new CountdownEvent(count - 1);
            var items = new WorkItem[count - 1];
            lock (Pending)
            {
                for (int i = 1; i < count; i++) Pending.Enqueue(items[i - 1] = new WorkItem(body, i, done));
                Monitor.PulseAll(Pending);
            }
            Exception? first = null;
            try { body(0); }
            catch (Exception e) { first = e; }
            // Help: whatever no worker has taken yet runs here.
            foreach (var item in items) item.TryRun();
            done.Wait();
            first ??= items.Select(i => i.Error).FirstOrDefault(e => e is not null);
            if (first is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(first);
        }

        private static void EnsureWorkers(int wanted)
        {
            while (true)
            {
                int started = Volatile.Read(ref s_started);
                if (started >= wanted) return;
                if (Interlocked.CompareExchange(ref s_started, started + 1, started) != started) continue;
                new Thread(static () =>
                {
                    while (true)
                    {
                        WorkItem item;
                        lock (Pending)
                        {
                            while (Pending.Count == 0) Monitor.Wait(Pending);
                            item = Pending.Dequeue();
                        }
                        item.TryRun();   // false when the caller already ran it
                    }
                }) { IsBackground = true, Name = "png band" }.Start();
            }
        }
    }
}
