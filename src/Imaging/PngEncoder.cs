using System.Buffers;
using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Hashing;

namespace Sandbox.Imaging;

/// <summary>Which PNG row filter the encoder applies.</summary>
internal enum PngFilterMode
{
    /// <summary>
    /// The default: per row, the cheapest of None, Sub, Up and Average by the signed-sum estimate, taken in one
    /// pass over a sample of the row; only the winner is computed. Small on text-heavy screens and photos alike at
    /// level 1; see <c>PngEncoder.AutoCandidates</c> and <c>PngEncoder.AutoSampleEvery</c>.
    /// </summary>
    Auto = 0,
    None,
    Sub,
    Up,
    Average,
    Paeth,
    /// <summary>All five filters per row, keeping the one with the smallest signed-sum estimate.</summary>
    Adaptive,
}

internal sealed record PngEncoderOptions
{
    public static PngEncoderOptions Default { get; } = new();

    /// <summary>
    /// zlib level 0–9, handed to zlib-ng as is: 0 stores, 1 is its fast "quick" strategy,
    /// 6 is the usual default and 9 the smallest. 0/1/6/9 are exactly what
    /// <see cref="System.IO.Compression.CompressionLevel"/>'s NoCompression/Fastest/Optimal/SmallestSize
    /// mean; the levels between give finer steps than those four.
    /// </summary>
    public int CompressionLevel { get; init; } = 1;

    public PngFilterMode Filter { get; init; } = PngFilterMode.Auto;

    /// <summary>Write colour type 6 (RGBA) taking alpha from the fourth byte; otherwise type 2 (RGB).</summary>
    public bool IncludeAlpha { get; init; }

    /// <summary>
    /// Bands encoded in parallel (0 = one per core). Each band is filtered and deflated on its own
    /// thread; 1 is the single-threaded streaming encoder. Images under <see cref="PngEncoder.MinBandRows"/>
    /// rows per band use fewer bands.
    /// </summary>
    public int Threads { get; init; }
}

/// <summary>
/// Streams a <see cref="BgraImage"/> to PNG: each row is converted to RGB(A), filtered into a batch of
/// rows (<see cref="BatchBytes"/>) and the batch written into the deflate stream, which emits IDAT chunks
/// as it goes. Memory use is a few rows, one batch plus zlib's window, whatever the image size.
/// </summary>
internal static class PngEncoder
{
    /// <summary>
    /// Filters tried per row by <see cref="PngFilterMode.Auto"/> (bit n = PNG filter type n): None, Sub,
    /// Up and Average. Measured at level 1 on the 1920x1080 scenes (tests/bench/Imaging.Bench), this set
    /// matches None on text-heavy screens (office: 300 KB, ~5 ms vs None's 301 KB, ~3.5 ms) and the best
    /// single filter on photos (photo: 3.66 MB, ~24 ms vs None's 6.1 MB, ~55 ms, Up's 4.1 MB). Paeth is
    /// left out: it costs the most to compute and, under the signed-sum estimate, made both scenes
    /// slightly larger (photo 3.76 MB); None+Up alone left office at 328 KB.
    /// </summary>
    internal const int AutoCandidates = 0b01111;

    /// <summary>
    /// <see cref="PngFilterMode.Auto"/> estimates each row on every 4th 16-byte block (<see cref="PngFilters.ChooseFilter"/>).
    /// Measured on the 1920x1080 scenes at level 1 (single thread): every block 0.99 ms for convert + choice, office
    /// 300.8 KB; every 4th 0.54 ms, 300.8 KB; every 8th 0.48 ms, 304.8 KB; every 16th 315 KB. The photo's size did not
    /// move (3.658 MB). The old way (four filtered rows and four sums per row) took 1.6 ms.
    /// </summary>
    internal const int AutoSampleEvery = 4;

    /// <summary>Fewest rows a parallel band gets: below this a band's own deflate start-up and lost context cost more than the split saves.</summary>
    public const int MinBandRows = 64;

    private const int MaxBands = 64;

    private static ReadOnlySpan<byte> Signature => [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>Encodes <paramref name="image"/> as PNG to <paramref name="output"/> (left open).</summary>
    public static void Encode(BgraImage image, Stream output, PngEncoderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(output);
        options ??= PngEncoderOptions.Default;
        ArgumentOutOfRangeException.ThrowIfLessThan(options.CompressionLevel, 0, nameof(options.CompressionLevel));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(options.CompressionLevel, 9, nameof(options.CompressionLevel));
        if (!Enum.IsDefined(options.Filter)) throw new ArgumentOutOfRangeException(nameof(options), options.Filter, "Unknown filter mode.");
        if (image.Width < 1 || image.Height < 1) throw new ArgumentException("PNG needs at least one pixel.", nameof(image));

        int bpp = options.IncludeAlpha ? 4 : 3;
        int candidates = options.Filter switch
        {
            PngFilterMode.None => 1 << 0,
            PngFilterMode.Sub => 1 << 1,
            PngFilterMode.Up => 1 << 2,
            PngFilterMode.Average => 1 << 3,
            PngFilterMode.Paeth => 1 << 4,
            PngFilterMode.Adaptive => 0b11111,
            _ => AutoCandidates,
        };
        int rowBytes = image.Width * bpp;
        int threads = options.Threads > 0 ? options.Threads : Environment.ProcessorCount;
        int bands = Math.Clamp(Math.Min(threads, image.Height / MinBandRows), 1, MaxBands);

        WriteHeader(output, image.Width, image.Height, options.IncludeAlpha ? (byte)6 : (byte)2);
        if (bands > 1)
        {
            PngBands.Encode(image, output, options.CompressionLevel, candidates, options.IncludeAlpha, bands);
            WriteChunk(output, "IEND"u8, []);
            return;
        }

        using (var idat = new PngChunkStream(output, "IDAT"u8))
        {
            using (var zlib = new ZLibStream(idat, new ZLibCompressionOptions { CompressionLevel = options.CompressionLevel }, leaveOpen: true))
            using (var rows = new RowBuffers(rowBytes, candidates))
                WriteRows(image, 0, image.Height, rows, zlib, candidates, bpp, options.IncludeAlpha);
            idat.Complete();
        }

        WriteChunk(output, "IEND"u8, []);
    }

    /// <summary>
    /// The row this many rows ahead is prefetched while one is converted. The captured frame is cold (the X
    /// server just wrote 8 MB of it) and the hardware prefetcher stops at every 4 KiB page, so the conversion
    /// waited on memory: measured on cold 1920x1080 office frames, single band, fastest of 60: none 2.82 ms,
    /// one row ahead 2.56–2.60 ms, two 2.61–2.65 ms, four 2.67 ms.
    /// </summary>
    internal const int PrefetchRows = 1;

    /// <summary>Bytes of filtered rows gathered before one deflate write (at least one row).</summary>
    internal const int BatchBytes = 64 * 1024;

    /// <summary>
    /// Converts, filters and deflates rows [<paramref name="y0"/>, <paramref name="y1"/>): filtered rows are
    /// gathered into one pooled batch of about <see cref="BatchBytes"/> and handed to deflate together
    /// (one native call per batch instead of one per row).
    /// </summary>
    internal static void WriteRows(BgraImage image, int y0, int y1, RowBuffers rows, Stream zlib, int candidates, int bpp, bool alpha)
    {
        int rowLength = 1 + image.Width * bpp;
        var batch = ArrayPool<byte>.Shared.Rent(Math.Max(BatchBytes, rowLength));
        try
        {
            int fill = 0;
            for (int y = y0; y < y1; y++)
            {
                if (fill + rowLength > batch.Length)
                {
                    zlib.Write(batch, 0, fill);
                    fill = 0;
                }
                if (y + PrefetchRows < y1) PngFilters.Prefetch(image.Row(y + PrefetchRows));
                PngFilters.ConvertRow(image.Row(y), rows.Current, alpha);
                fill += rows.FilterCurrentInto(batch.AsSpan(fill), candidates, bpp);
                rows.Advance();
            }
            if (fill > 0) zlib.Write(batch, 0, fill);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(batch);
        }
    }

    private static void WriteHeader(Stream output, int width, int height, byte colourType)
    {
        Span<byte> ihdr = stackalloc byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr[4..], height);
        ihdr[8] = 8;          // bit depth
        ihdr[9] = colourType;
        ihdr[10] = 0;         // deflate
        ihdr[11] = 0;         // adaptive filtering (per-row filter byte)
        ihdr[12] = 0;         // no interlace
        output.Write(Signature);
        WriteChunk(output, "IHDR"u8, ihdr);
    }

    internal static void WriteChunk(Stream output, ReadOnlySpan<byte> type, ReadOnlySpan<byte> data)
    {
        Span<byte> head = stackalloc byte[8];
        BinaryPrimitives.WriteInt32BigEndian(head, data.Length);
        type.CopyTo(head[4..]);
        var crc = new Crc32();
        crc.Append(type);
        crc.Append(data);
        Span<byte> tail = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(tail, crc.GetCurrentHashAsUInt32());
        output.Write(head);
        output.Write(data);
        output.Write(tail);
    }

    /// <summary>
    /// The previous and current converted rows (each with room for the filter-type byte in front), plus, for a
    /// search over several filters in full (<see cref="PngFilterMode.Adaptive"/>), one scratch row per candidate.
    /// </summary>
    internal sealed class RowBuffers : IDisposable
    {
        private const int FilterNone = 0, FilterSub = 1, FilterUp = 2, FilterAverage = 3, FilterPaeth = 4;

        private readonly int _rowBytes;
        private byte[] _previous;   // [0] is the filter byte, then the raw row
        private byte[] _current;
        private readonly byte[][] _filtered = new byte[5][];   // by PNG filter type, only for a full search; [0] unused

        public RowBuffers(int rowBytes, int candidates)
        {
            _rowBytes = rowBytes;
            int length = 1 + rowBytes + PngFilters.Slack;
            _previous = Rent(length);
            _current = Rent(length);
            // The row above the first is defined as zeros.
            _previous.AsSpan(0, length).Clear();
            if (Searches(candidates))
                for (int type = FilterSub; type <= FilterPaeth; type++)
                    if ((candidates & (1 << type)) != 0) _filtered[type] = Rent(length);
        }

        private static byte[] Rent(int length) => ArrayPool<byte>.Shared.Rent(length);

        /// <summary>Several candidates, each filtered and estimated in full (Auto's are estimated by <see cref="PngFilters.ChooseFilter"/> without filtering).</summary>
        private static bool Searches(int candidates) => candidates != AutoCandidates && (candidates & (candidates - 1)) != 0;

        /// <summary>Where the caller converts the next raw row.</summary>
        public Span<byte> Current => _current.AsSpan(1);

        /// <summary>
        /// Filters the current row and writes filter byte + filtered row into <paramref name="destination"/> (at least
        /// 1 + row bytes long), returning the bytes written, so rows can be gathered into one larger deflate write.
        /// The filter: Auto's choice (<see cref="PngFilters.ChooseFilter"/>), the only candidate (bit n = PNG filter
        /// type n), or of several candidates the one with the smallest estimate over the whole filtered row.
        /// </summary>
        public int FilterCurrentInto(Span<byte> destination, int candidates, int bpp)
        {
            var raw = _current.AsSpan(1, _rowBytes);
            var prior = _previous.AsSpan(1, _rowBytes);
            var dst = destination.Slice(1, _rowBytes);
            int type;
            if (!Searches(candidates))
            {
                type = candidates == AutoCandidates
                    ? PngFilters.ChooseFilter(raw, prior, bpp, AutoSampleEvery)
                    : System.Numerics.BitOperations.TrailingZeroCount(candidates);
                Filter(type, raw, prior, dst, bpp);
            }
            else
            {
                type = FilterNone;
                long bestSum = long.MaxValue;
                for (int t = FilterNone; t <= FilterPaeth; t++)
                {
                    if ((candidates & (1 << t)) == 0) continue;
                    ReadOnlySpan<byte> candidate = raw;
                    if (t != FilterNone)
                    {
                        var scratch = _filtered[t].AsSpan(1, _rowBytes);
                        Filter(t, raw, prior, scratch, bpp);
                        candidate = scratch;
                    }
                    long sum = PngFilters.SumAbsSigned(candidate);
                    // Strictly smaller: ties keep the earlier, cheaper-to-decode filter.
                    if (sum < bestSum) { type = t; bestSum = sum; }
                }
                (type == FilterNone ? raw : _filtered[type].AsSpan(1, _rowBytes)).CopyTo(dst);
            }
            destination[0] = (byte)type;
            return 1 + _rowBytes;
        }

        private static void Filter(int type, ReadOnlySpan<byte> raw, ReadOnlySpan<byte> prior, Span<byte> dst, int bpp)
        {
            switch (type)
            {
                case FilterNone: raw.CopyTo(dst); break;
                case FilterSub: PngFilters.Sub(raw, dst, bpp); break;
                case FilterUp: PngFilters.Up(raw, prior, dst); break;
                case FilterAverage: PngFilters.Average(raw, prior, dst, bpp); break;
                default: PngFilters.Paeth(raw, prior, dst, bpp); break;
            }
        }

        /// <summary>The current row becomes the prior row of the next one.</summary>
        public void Advance() => (_previous, _current) = (_current, _previous);

        public void Dispose()
        {
            ArrayPool<byte>.Shared.Return(_previous);
            ArrayPool<byte>.Shared.Return(_current);
            foreach (var buffer in _filtered)
                if (buffer is not null) ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
