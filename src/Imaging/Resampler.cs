using System.Buffers;

namespace Sandbox.Imaging;

/// <summary>
/// The factors a resize applied per axis (scaled size / original size), so a coordinate in the
/// scaled image maps back as original = scaled / factor.
/// </summary>
internal readonly record struct ScaleFactors(double X, double Y)
{
    public static ScaleFactors Identity => new(1, 1);

    public (double X, double Y) ToOriginal(double scaledX, double scaledY) => (scaledX / X, scaledY / Y);
}

/// <summary>
/// Area-averaging resize: every output pixel is the mean of the source area it covers, with partial
/// coverage at its edges weighted exactly. For downscaling screenshots this is what keeps thin text
/// strokes and 1 px borders visible instead of dropping them as point samplers do.
/// </summary>
/// <remarks>
/// Separable, fixed point: horizontal weights sum to exactly 2^12 and vertical ones to 2^11, so a
/// constant image stays exactly constant and the worst-case sum (255·2^23 plus rounding) fits 32 bits.
/// All four bytes are averaged, so an alpha channel in the fourth byte is resampled too.
/// </remarks>
internal static class Resampler
{
    private const int HorizontalBits = 12, VerticalBits = 11;

    /// <summary>
    /// The largest size with the source's aspect ratio that fits maxWidth × maxHeight, never larger than
    /// the source and never 0 in either axis.
    /// </summary>
    public static (int Width, int Height) FitWithin(int width, int height, int maxWidth, int maxHeight)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxWidth, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxHeight, 1);
        if (width <= maxWidth && height <= maxHeight) return (width, height);
        double scale = Math.Min((double)maxWidth / width, (double)maxHeight / height);
        int w = (int)Math.Clamp(Math.Round(width * scale), 1, Math.Min(maxWidth, width));
        int h = (int)Math.Clamp(Math.Round(height * scale), 1, Math.Min(maxHeight, height));
        return (w, h);
    }

    /// <summary>
    /// Scales <paramref name="source"/> down to fit within the limits (see <see cref="FitWithin"/>).
    /// Always returns a new buffer, a plain copy when the source already fits.
    /// </summary>
    public static BgraBuffer Fit(BgraImage source, int maxWidth, int maxHeight, out ScaleFactors scale)
    {
        var (w, h) = FitWithin(source.Width, source.Height, maxWidth, maxHeight);
        scale = new ScaleFactors((double)w / source.Width, (double)h / source.Height);
        return Resize(source, w, h);
    }

    /// <summary>Resamples <paramref name="source"/> to exactly width × height by area averaging.</summary>
    public static BgraBuffer Resize(BgraImage source, int width, int height)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        if (source.Width < 1 || source.Height < 1) throw new ArgumentException("Source image is empty.", nameof(source));

        var result = new BgraBuffer(width, height);
        try
        {
            var dst = result.Image;
            if (width == source.Width && height == source.Height)
            {
                for (int y = 0; y < height; y++) source.Row(y).CopyTo(dst.Row(y));
                return result;
            }
            var xs = AxisWeights.Create(source.Width, width, HorizontalBits);
            var ys = AxisWeights.Create(source.Height, height, VerticalBits);
            var horizontal = ArrayPool<uint>.Shared.Rent(width * 4);
            var accumulator = ArrayPool<uint>.Shared.Rent(width * 4);
            try
            {
                var hrow = horizontal.AsSpan(0, width * 4);
                var acc = accumulator.AsSpan(0, width * 4);
                for (int oy = 0; oy < height; oy++)
                {
                    acc.Fill(1u << (HorizontalBits + VerticalBits - 1));   // rounding bias
                    int first = ys.Start[oy];
                    for (int k = 0; k < ys.Count[oy]; k++)
                    {
                        uint wy = ys.Weight(oy, k);
                        if (wy == 0) continue;
                        ResampleRow(source.Row(first + k), hrow, xs);
                        for (int i = 0; i < acc.Length; i++) acc[i] += hrow[i] * wy;
                    }
                    var row = dst.Row(oy);
                    for (int i = 0; i < acc.Length; i++) row[i] = (byte)(acc[i] >> (HorizontalBits + VerticalBits));
                }
            }
            finally
            {
                ArrayPool<uint>.Shared.Return(horizontal);
                ArrayPool<uint>.Shared.Return(accumulator);
            }
            return result;
        }
        catch
        {
            result.Dispose();
            throw;
        }
    }

    private static void ResampleRow(ReadOnlySpan<byte> src, Span<uint> dst, AxisWeights xs)
    {
        for (int ox = 0; ox < xs.Start.Length; ox++)
        {
            uint b = 0, g = 0, r = 0, a = 0;
            int p = xs.Start[ox] * 4;
            var weights = xs.Weights(ox);
            for (int k = 0; k < weights.Length; k++, p += 4)
            {
                uint w = weights[k];
                b += src[p] * w;
                g += src[p + 1] * w;
                r += src[p + 2] * w;
                a += src[p + 3] * w;
            }
            int o = ox * 4;
            dst[o] = b;
            dst[o + 1] = g;
            dst[o + 2] = r;
            dst[o + 3] = a;
        }
    }

    /// <summary>For each output index along one axis: the first source index and its coverage weights.</summary>
    private sealed class AxisWeights(int[] start, int[] count, uint[] flat, int taps)
    {
        public int[] Start { get; } = start;
        public int[] Count { get; } = count;
        private uint[] Flat { get; } = flat;
        private int Taps { get; } = taps;

        public uint Weight(int output, int k) => Flat[output * Taps + k];
        public ReadOnlySpan<uint> Weights(int output) => Flat.AsSpan(output * Taps, Count[output]);

        public static AxisWeights Create(int sourceSize, int outputSize, int bits)
        {
            // Work in units of 1/outputSize source pixels so every boundary is an integer:
            // output o covers [o*S, (o+1)*S), source i covers [i*D, (i+1)*D), total coverage is S.
            long s = sourceSize, d = outputSize;
            int taps = (int)((s + d - 1) / d) + 1;
            var start = new int[outputSize];
            var count = new int[outputSize];
            var flat = new uint[outputSize * taps];
            uint one = 1u << bits;
            for (int o = 0; o < outputSize; o++)
            {
                long lo = o * s, hi = (o + 1) * s;
                int first = (int)(lo / d);
                int last = (int)Math.Min((hi - 1) / d, sourceSize - 1);
                start[o] = first;
                count[o] = last - first + 1;
                uint total = 0;
                int biggest = 0;
                for (int i = first; i <= last; i++)
                {
                    long overlap = Math.Min(hi, (i + 1) * d) - Math.Max(lo, i * d);
                    uint w = (uint)((overlap * one + s / 2) / s);
                    flat[o * taps + (i - first)] = w;
                    total += w;
                    if (w > flat[o * taps + biggest]) biggest = i - first;
                }
                // Rounding may leave the sum a little off; the largest tap absorbs it so sums are exact.
                flat[o * taps + biggest] = (uint)(flat[o * taps + biggest] + (one - total));
            }
            return new AxisWeights(start, count, flat, taps);
        }
    }
}
