using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Sandbox.Imaging;

/// <summary>
/// The row kernels of the PNG encoder: BGRX → RGB(A) conversion, the five PNG filters and the
/// filter-choice heuristic. Encoding filters never depend on their own output (only on raw bytes),
/// so every filter vectorizes without the serial dependency that makes decoding hard.
/// </summary>
/// <remarks>
/// Destination spans must extend <see cref="Slack"/> bytes past the row so the swizzle can store
/// whole vectors; the filters themselves never touch bytes past <c>raw.Length</c>.
/// </remarks>
internal static class PngFilters
{
    /// <summary>Extra bytes a converted row buffer needs after the row.</summary>
    public const int Slack = 16;

    /// <summary>BGRX pixels to RGB bytes (alpha false) or RGBA bytes (alpha true).</summary>
    public static void ConvertRow(ReadOnlySpan<byte> bgrx, Span<byte> dst, bool alpha)
    {
        int pixels = bgrx.Length / 4;
        int bpp = alpha ? 4 : 3;
        if (dst.Length < pixels * bpp) throw new ArgumentException("Destination row too short.", nameof(dst));
        ref byte s = ref MemoryMarshal.GetReference(bgrx);
        ref byte d = ref MemoryMarshal.GetReference(dst);
        int i = 0;
        if (Vector128.IsHardwareAccelerated)
        {
            // Each 16-byte load holds 4 pixels; the store writes 16 bytes of which 12 (RGB) or 16 (RGBA)
            // are meaningful, so only stop when the store would run past dst.
            var mask = alpha
                ? Vector128.Create((byte)2, 1, 0, 3, 6, 5, 4, 7, 10, 9, 8, 11, 14, 13, 12, 15)
                : Vector128.Create((byte)2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, 0x80, 0x80, 0x80, 0x80);
            for (; i + 4 <= pixels && i * bpp + 16 <= dst.Length; i += 4)
            {
                var v = Vector128.LoadUnsafe(ref s, (nuint)(i * 4));
                Shuffle(v, mask).StoreUnsafe(ref d, (nuint)(i * bpp));
            }
        }
        for (; i < pixels; i++)
        {
            int si = i * 4, di = i * bpp;
            Unsafe.Add(ref d, di) = Unsafe.Add(ref s, si + 2);
            Unsafe.Add(ref d, di + 1) = Unsafe.Add(ref s, si + 1);
            Unsafe.Add(ref d, di + 2) = Unsafe.Add(ref s, si);
            if (alpha) Unsafe.Add(ref d, di + 3) = Unsafe.Add(ref s, si + 3);
        }
    }

    /// <summary>Asks the CPU to start loading <paramref name="row"/> into cache (a hint: never faults, never waits).</summary>
    public static unsafe void Prefetch(ReadOnlySpan<byte> row)
    {
        if (!Sse.IsSupported || row.IsEmpty) return;
        byte* p = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetReference(row));
        for (int o = 0; o < row.Length; o += 64) Sse.Prefetch0(p + o);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<byte> Shuffle(Vector128<byte> v, Vector128<byte> mask) =>
        // pshufb zeroes lanes whose index has the high bit set, which the RGB mask relies on.
        Ssse3.IsSupported ? Ssse3.Shuffle(v, mask) : Vector128.Shuffle(v, mask);

    /// <summary>Sub: raw[i] - raw[i-bpp].</summary>
    public static void Sub(ReadOnlySpan<byte> raw, Span<byte> dst, int bpp)
    {
        int n = raw.Length;
        if (dst.Length < n) throw new ArgumentException("Destination row too short.", nameof(dst));
        ref byte r = ref MemoryMarshal.GetReference(raw);
        ref byte d = ref MemoryMarshal.GetReference(dst);
        int i = 0;
        for (; i < bpp && i < n; i++) Unsafe.Add(ref d, i) = Unsafe.Add(ref r, i);
        if (Vector128.IsHardwareAccelerated)
        {
            for (; i + 16 <= n; i += 16)
            {
                var cur = Vector128.LoadUnsafe(ref r, (nuint)i);
                var left = Vector128.LoadUnsafe(ref r, (nuint)(i - bpp));
                (cur - left).StoreUnsafe(ref d, (nuint)i);
            }
        }
        for (; i < n; i++) Unsafe.Add(ref d, i) = (byte)(Unsafe.Add(ref r, i) - Unsafe.Add(ref r, i - bpp));
    }

    /// <summary>Up: raw[i] - prior[i].</summary>
    public static void Up(ReadOnlySpan<byte> raw, ReadOnlySpan<byte> prior, Span<byte> dst)
    {
        int n = raw.Length;
        if (dst.Length < n || prior.Length < n) throw new ArgumentException("Row lengths differ.");
        ref byte r = ref MemoryMarshal.GetReference(raw);
        ref byte p = ref MemoryMarshal.GetReference(prior);
        ref byte d = ref MemoryMarshal.GetReference(dst);
        int i = 0;
        if (Vector128.IsHardwareAccelerated)
        {
            for (; i + 32 <= n; i += 32)
            {
                (Vector128.LoadUnsafe(ref r, (nuint)i) - Vector128.LoadUnsafe(ref p, (nuint)i)).StoreUnsafe(ref d, (nuint)i);
                (Vector128.LoadUnsafe(ref r, (nuint)(i + 16)) - Vector128.LoadUnsafe(ref p, (nuint)(i + 16))).StoreUnsafe(ref d, (nuint)(i + 16));
            }
            for (; i + 16 <= n; i += 16)
                (Vector128.LoadUnsafe(ref r, (nuint)i) - Vector128.LoadUnsafe(ref p, (nuint)i)).StoreUnsafe(ref d, (nuint)i);
        }
        for (; i < n; i++) Unsafe.Add(ref d, i) = (byte)(Unsafe.Add(ref r, i) - Unsafe.Add(ref p, i));
    }

    /// <summary>Average: raw[i] - floor((raw[i-bpp] + prior[i]) / 2).</summary>
    public static void Average(ReadOnlySpan<byte> raw, ReadOnlySpan<byte> prior, Span<byte> dst, int bpp)
    {
        int n = raw.Length;
        if (dst.Length < n || prior.Length < n) throw new ArgumentException("Row lengths differ.");
        ref byte r = ref MemoryMarshal.GetReference(raw);
        ref byte p = ref MemoryMarshal.GetReference(prior);
        ref byte d = ref MemoryMarshal.GetReference(dst);
        int i = 0;
        for (; i < bpp && i < n; i++) Unsafe.Add(ref d, i) = (byte)(Unsafe.Add(ref r, i) - (Unsafe.Add(ref p, i) >> 1));
        if (Vector128.IsHardwareAccelerated)
        {
            for (; i + 16 <= n; i += 16)
            {
                var a = Vector128.LoadUnsafe(ref r, (nuint)(i - bpp));
                var b = Vector128.LoadUnsafe(ref p, (nuint)i);
                // floor((a+b)/2) without widening: the shared bits plus half the differing ones.
                var avg = (a & b) + Vector128.ShiftRightLogical(a ^ b, 1);
                (Vector128.LoadUnsafe(ref r, (nuint)i) - avg).StoreUnsafe(ref d, (nuint)i);
            }
        }
        for (; i < n; i++)
            Unsafe.Add(ref d, i) = (byte)(Unsafe.Add(ref r, i) - ((Unsafe.Add(ref r, i - bpp) + Unsafe.Add(ref p, i)) >> 1));
    }

    /// <summary>Paeth: raw[i] - PaethPredictor(left, up, upper-left).</summary>
    public static void Paeth(ReadOnlySpan<byte> raw, ReadOnlySpan<byte> prior, Span<byte> dst, int bpp)
    {
        int n = raw.Length;
        if (dst.Length < n || prior.Length < n) throw new ArgumentException("Row lengths differ.");
        ref byte r = ref MemoryMarshal.GetReference(raw);
        ref byte p = ref MemoryMarshal.GetReference(prior);
        ref byte d = ref MemoryMarshal.GetReference(dst);
        int i = 0;
        // With no left neighbour the predictor degenerates to "up".
        for (; i < bpp && i < n; i++) Unsafe.Add(ref d, i) = (byte)(Unsafe.Add(ref r, i) - Unsafe.Add(ref p, i));
        if (Vector128.IsHardwareAccelerated)
        {
            for (; i + 16 <= n; i += 16)
            {
                var a = Vector128.LoadUnsafe(ref r, (nuint)(i - bpp));
                var b = Vector128.LoadUnsafe(ref p, (nuint)i);
                var c = Vector128.LoadUnsafe(ref p, (nuint)(i - bpp));
                var (aLo, aHi) = Vector128.Widen(a);
                var (bLo, bHi) = Vector128.Widen(b);
                var (cLo, cHi) = Vector128.Widen(c);
                var predLo = PaethPredict(aLo.AsInt16(), bLo.AsInt16(), cLo.AsInt16());
                var predHi = PaethPredict(aHi.AsInt16(), bHi.AsInt16(), cHi.AsInt16());
                var pred = Vector128.Narrow(predLo.AsUInt16(), predHi.AsUInt16());
                (Vector128.LoadUnsafe(ref r, (nuint)i) - pred).StoreUnsafe(ref d, (nuint)i);
            }
        }
        for (; i < n; i++)
            Unsafe.Add(ref d, i) = (byte)(Unsafe.Add(ref r, i) - PaethPredict(Unsafe.Add(ref r, i - bpp), Unsafe.Add(ref p, i), Unsafe.Add(ref p, i - bpp)));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<short> PaethPredict(Vector128<short> a, Vector128<short> b, Vector128<short> c)
    {
        // p = a + b - c; |p-a| = |b-c|, |p-b| = |a-c|, |p-c| = |a+b-2c|. Ties prefer a, then b (spec order).
        var pa = Vector128.Abs(b - c);
        var pb = Vector128.Abs(a - c);
        var pc = Vector128.Abs(a + b - c - c);
        var useA = Vector128.LessThanOrEqual(pa, pb) & Vector128.LessThanOrEqual(pa, pc);
        var useB = Vector128.LessThanOrEqual(pb, pc);
        return Vector128.ConditionalSelect(useA, a, Vector128.ConditionalSelect(useB, b, c));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static byte PaethPredict(byte a, byte b, byte c)
    {
        int pa = Math.Abs(b - c), pb = Math.Abs(a - c), pc = Math.Abs(a + b - c - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }

    /// <summary>
    /// The filter <see cref="PngFilterMode.Auto"/> gives a row: None (0), Sub (1), Up (2) or Average (3), whichever has
    /// the smallest signed-sum estimate (<see cref="SumAbsSigned"/>) over every <paramref name="sampleEvery"/>-th
    /// 16-byte block of the row, computed in one pass without writing any filtered bytes (only the winner is
    /// then applied). Ties keep the lower type. Rows under 64 bytes are estimated whole.
    /// </summary>
    public static int ChooseFilter(ReadOnlySpan<byte> raw, ReadOnlySpan<byte> prior, int bpp, int sampleEvery)
    {
        int n = raw.Length;
        if (prior.Length < n) throw new ArgumentException("Row lengths differ.");
        ArgumentOutOfRangeException.ThrowIfLessThan(sampleEvery, 1);
        ref byte r = ref MemoryMarshal.GetReference(raw);
        ref byte p = ref MemoryMarshal.GetReference(prior);
        ulong none = 0, sub = 0, up = 0, avg = 0;
        if (Sse2.IsSupported && n >= 64)
        {
            // Blocks start at 16 (>= bpp), so every "left" byte is inside the row.
            var bias = Vector128.Create((byte)0x80);
            Vector128<ulong> aN = default, aS = default, aU = default, aA = default;
            int step = 16 * sampleEvery;
            for (int i = 16; i + 16 <= n; i += step)
            {
                var cur = Vector128.LoadUnsafe(ref r, (nuint)i);
                var left = Vector128.LoadUnsafe(ref r, (nuint)(i - bpp));
                var above = Vector128.LoadUnsafe(ref p, (nuint)i);
                var mean = (left & above) + Vector128.ShiftRightLogical(left ^ above, 1);
                aN += Sse2.SumAbsoluteDifferences(cur ^ bias, bias).AsUInt64();
                aS += Sse2.SumAbsoluteDifferences((cur - left) ^ bias, bias).AsUInt64();
                aU += Sse2.SumAbsoluteDifferences((cur - above) ^ bias, bias).AsUInt64();
                aA += Sse2.SumAbsoluteDifferences((cur - mean) ^ bias, bias).AsUInt64();
            }
            none = aN.GetElement(0) + aN.GetElement(1);
            sub = aS.GetElement(0) + aS.GetElement(1);
            up = aU.GetElement(0) + aU.GetElement(1);
            avg = aA.GetElement(0) + aA.GetElement(1);
        }
        else
        {
            bool whole = n < 64;
            for (int block = whole ? 0 : 16; block < n; block += whole ? n : 16 * sampleEvery)
            {
                int end = whole ? n : Math.Min(n, block + 16);
                for (int i = block; i < end; i++)
                {
                    int cur = Unsafe.Add(ref r, i), above = Unsafe.Add(ref p, i);
                    int left = i >= bpp ? Unsafe.Add(ref r, i - bpp) : 0;
                    none += Magnitude(cur);
                    sub += Magnitude(cur - left);
                    up += Magnitude(cur - above);
                    avg += Magnitude(cur - ((left + above) >> 1));
                }
            }
        }
        int best = 0;
        ulong bestSum = none;
        if (sub < bestSum) { best = 1; bestSum = sub; }
        if (up < bestSum) { best = 2; bestSum = up; }
        if (avg < bestSum) best = 3;
        return best;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Magnitude(int difference) => (ulong)Math.Abs((int)(sbyte)(byte)difference);

    /// <summary>
    /// Sum of the bytes read as signed magnitudes (0 and 255 both count as small): the classic
    /// "minimum sum of absolute differences" estimate of how well a filtered row will compress.
    /// </summary>
    public static long SumAbsSigned(ReadOnlySpan<byte> row)
    {
        ref byte s = ref MemoryMarshal.GetReference(row);
        int n = row.Length, i = 0;
        long sum = 0;
        if (Sse2.IsSupported)
        {
            // |signed(x)| == |(x ^ 0x80) - 128| as unsigned bytes, which psadbw sums eight at a time.
            var bias = Vector128.Create((byte)0x80);
            var acc = Vector128<ulong>.Zero;
            for (; i + 16 <= n; i += 16)
                acc += Sse2.SumAbsoluteDifferences(Vector128.LoadUnsafe(ref s, (nuint)i) ^ bias, bias).AsUInt64();
            sum = (long)(acc.GetElement(0) + acc.GetElement(1));
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            var acc = Vector128<int>.Zero;
            for (; i + 16 <= n; i += 16)
            {
                var abs = Vector128.Abs(Vector128.LoadUnsafe(ref s, (nuint)i).AsSByte()).AsByte();
                var (lo, hi) = Vector128.Widen(abs);
                var (a, b) = Vector128.Widen(lo + hi);
                acc += a.AsInt32() + b.AsInt32();
            }
            sum = Vector128.Sum(acc);
        }
        for (; i < n; i++) sum += Math.Abs((int)(sbyte)Unsafe.Add(ref s, i));   // widen first: Abs(sbyte.MinValue) throws
        return sum;
    }
}
