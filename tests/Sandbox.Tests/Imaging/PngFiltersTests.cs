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
