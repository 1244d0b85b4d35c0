using Sandbox.Imaging;

namespace Sandbox.Tests.Imaging;

/// <summary>The vector kernels against straightforward scalar definitions from the PNG spec.</summary>
public sealed class PngFiltersTests
{
    public static TheoryData<int, int> Lengths()
    {
        var data = new TheoryData<int, int>();
        foreach (int bpp in new[] { 3, 4 })
            foreach (int pixels in new[] { 1, 2, 5, 6, 11, 16, 21, 64, 101 })
                data.Add(bpp, pixels * bpp);
        return data;
    }

    private static (byte[] Raw, byte[] Prior) Rows(int length, int seed)
    {
        var random = new Random(seed);
        var raw = new byte[length];
        var prior = new byte[length];
        random.NextBytes(raw);
        random.NextBytes(prior);
        // Include the extremes so wrap-around and Paeth ties are exercised.
        for (int i = 0; i < length; i += 7) { raw[i] = 255; prior[i] = 0; }
        return (raw, prior);
    }

    private static byte Left(byte[] raw, int i, int bpp) => i >= bpp ? raw[i - bpp] : (byte)0;

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Filters_match_the_spec_definitions(int bpp, int length)
    {
        var (raw, prior) = Rows(length, length * 10 + bpp);
        var dst = new byte[length];

        PngFilters.Sub(raw, dst, bpp);
        Assert.Equal(Enumerable.Range(0, length).Select(i => (byte)(raw[i] - Left(raw, i, bpp))), dst);

        PngFilters.Up(raw, prior, dst);
        Assert.Equal(Enumerable.Range(0, length).Select(i => (byte)(raw[i] - prior[i])), dst);

        PngFilters.Average(raw, prior, dst, bpp);
        Assert.Equal(Enumerable.Range(0, length).Select(i => (byte)(raw[i] - (Left(raw, i, bpp) + prior[i]) / 2)), dst);

        PngFilters.Paeth(raw, prior, dst, bpp);
        Assert.Equal(Enumerable.Range(0, length).Select(i => (byte)(raw[i] - Paeth(Left(raw, i, bpp), prior[i], Left(prior, i, bpp)))), dst);
    }

    private static byte Paeth(byte a, byte b, byte c)
    {
        int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }

    public static TheoryData<int, int, int, int> ChooserCases()
    {
        var data = new TheoryData<int, int, int, int>();
        foreach (int bpp in new[] { 3, 4 })
            foreach (int length in new[] { 12, 48, 63, 64, 100, 1000, 5760 })
                foreach (int sampleEvery in new[] { 1, 4 })
                    foreach (int kind in new[] { 0, 1, 2, 3 })
                        data.Add(bpp, length, sampleEvery, kind);
        return data;
    }

    /// <summary>Rows of four kinds, so that each filter wins somewhere: noise, a row like the one above, a gradient, flat 0/255.</summary>
    private static (byte[] Raw, byte[] Prior) KindRows(int length, int kind, int seed)
    {
        var random = new Random(seed);
        var raw = new byte[length];
        var prior = new byte[length];
        random.NextBytes(prior);
        for (int i = 0; i < length; i++)
            raw[i] = kind switch
            {
                0 => (byte)random.Next(256),
                1 => (byte)(prior[i] + random.Next(-2, 3)),
                2 => (byte)(i * 3 + random.Next(0, 2)),
                _ => random.Next(8) == 0 ? (byte)random.Next(256) : (byte)(random.Next(2) * 255),
            };
        return (raw, prior);
    }

    [Theory]
    [MemberData(nameof(ChooserCases))]
    public void Auto_choice_is_the_smallest_signed_sum_over_the_sampled_blocks(int bpp, int length, int sampleEvery, int kind)
    {
        var (raw, prior) = KindRows(length, kind, length * 31 + kind * 7 + bpp);
        // The definition: rows under 64 bytes whole; longer rows the 16-byte blocks at 16, 16 + 16·sampleEvery, …
        var indices = length < 64
            ? Enumerable.Range(0, length)
            : Enumerable.Range(0, (length - 16) / 16).Where(b => b % sampleEvery == 0).SelectMany(b => Enumerable.Range(16 + b * 16, 16));
        long Sum(Func<int, byte> filtered) => indices.Sum(i => (long)Math.Abs((int)(sbyte)filtered(i)));
        var sums = new[]
        {
            Sum(i => raw[i]),
            Sum(i => (byte)(raw[i] - Left(raw, i, bpp))),
            Sum(i => (byte)(raw[i] - prior[i])),
            Sum(i => (byte)(raw[i] - (Left(raw, i, bpp) + prior[i]) / 2)),
        };
        int expected = Array.IndexOf(sums, sums.Min());   // ties: the lowest type
        Assert.Equal(expected, PngFilters.ChooseFilter(raw, prior, bpp, sampleEvery));
    }

    [Fact]
    public void Auto_choice_finds_each_filter_on_the_content_it_suits()
    {
        // Long rows, sampled as the encoder does: an unchanged row (Up), a gradient (Sub), white text-like content (None).
        var (same, prior) = KindRows(5760, 1, 1);
        Assert.Equal(2, PngFilters.ChooseFilter(same, prior, 3, PngEncoder.AutoSampleEvery));
        var (gradient, prior2) = KindRows(5760, 2, 2);
        Assert.Equal(1, PngFilters.ChooseFilter(gradient, prior2, 3, PngEncoder.AutoSampleEvery));
        var (flat, prior3) = KindRows(5760, 3, 3);
        Assert.Equal(0, PngFilters.ChooseFilter(flat, prior3, 3, PngEncoder.AutoSampleEvery));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(15)]
    [InlineData(16)]
    [InlineData(100)]
    public void Signed_sum_counts_bytes_as_signed_magnitudes(int length)
    {
        var row = new byte[length];
        new Random(length).NextBytes(row);
        row[0] = 0x80;
        Assert.Equal(row.Sum(b => (long)Math.Abs((int)(sbyte)b)), PngFilters.SumAbsSigned(row));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(37)]
    public void Convert_swizzles_bgrx_to_rgb_and_rgba(int pixels)
    {
        var bgrx = new byte[pixels * 4];
        new Random(pixels).NextBytes(bgrx);
        var rgb = new byte[pixels * 3 + PngFilters.Slack];
        var rgba = new byte[pixels * 4 + PngFilters.Slack];
        PngFilters.ConvertRow(bgrx, rgb, alpha: false);
        PngFilters.ConvertRow(bgrx, rgba, alpha: true);
        for (int i = 0; i < pixels; i++)
        {
            Assert.Equal((bgrx[i * 4 + 2], bgrx[i * 4 + 1], bgrx[i * 4]), (rgb[i * 3], rgb[i * 3 + 1], rgb[i * 3 + 2]));
            Assert.Equal((bgrx[i * 4 + 2], bgrx[i * 4 + 1], bgrx[i * 4], bgrx[i * 4 + 3]), (rgba[i * 4], rgba[i * 4 + 1], rgba[i * 4 + 2], rgba[i * 4 + 3]));
        }
    }

    [Fact]
    public void Convert_without_slack_still_writes_every_pixel_and_nothing_beyond()
    {
        var bgrx = new byte[9 * 4];
        new Random(9).NextBytes(bgrx);
        var rgb = new byte[9 * 3];
        PngFilters.ConvertRow(bgrx, rgb, alpha: false);
        Assert.Equal((bgrx[8 * 4 + 2], bgrx[8 * 4 + 1], bgrx[8 * 4]), (rgb[24], rgb[25], rgb[26]));
    }
}
