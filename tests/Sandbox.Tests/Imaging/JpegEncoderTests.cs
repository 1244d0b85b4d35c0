using Sandbox.Imaging;

namespace Sandbox.Tests.Imaging;

public sealed class JpegEncoderTests
{
    /// <summary>A smooth colour field (JPEG's good case): red across, green down, blue diagonal.</summary>
    private static byte[] Gradient(int width, int height, int stride)
    {
        var pixels = new byte[(height - 1) * stride + width * 4];
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                int o = y * stride + x * 4;
                pixels[o] = (byte)((x + y) * 255 / (width + height));
                pixels[o + 1] = (byte)(y * 255 / height);
                pixels[o + 2] = (byte)(x * 255 / width);
            }
        return pixels;
    }

    private static double MeanError(BgraImage image, byte[] rgb)
    {
        long total = 0;
        var expected = TestPixels.ExpectedRgb(image, alpha: false);
        for (int i = 0; i < expected.Length; i++) total += Math.Abs(expected[i] - rgb[i]);
        return (double)total / expected.Length;
    }

    [Theory]
    [InlineData(64, 48, 0, 80)]
    [InlineData(37, 23, 8, 90)]
    [InlineData(1, 1, 0, 100)]
    public void Decodes_to_the_same_size_and_nearly_the_same_colours(int width, int height, int pad, int quality)
    {
        int stride = width * 4 + pad;
        var pixels = Gradient(width, height, stride);
        using var output = new MemoryStream();
        JpegEncoder.Encode(TestPixels.View(pixels, width, height, stride), output, quality);
        var bytes = output.ToArray();
        Assert.Equal(new byte[] { 0xFF, 0xD8 }, bytes[..2]);
        var decoded = TestPixels.Decode(bytes);
        Assert.Equal((width, height), (decoded.Width, decoded.Height));
        Assert.InRange(MeanError(TestPixels.View(pixels, width, height, stride), decoded.Data), 0, 4);
    }

    [Fact]
    public void Flat_patches_keep_their_colour()
    {
        // Left half pure red, right half pure blue, in BGRX.
        const int width = 32, height = 16;
        var pixels = new byte[width * height * 4];
        for (int i = 0; i < width * height; i++)
            if (i % width < width / 2) pixels[i * 4 + 2] = 255; else pixels[i * 4] = 255;
        using var output = new MemoryStream();
        JpegEncoder.Encode(TestPixels.View(pixels, width, height, width * 4), output, 80);
        var rgb = TestPixels.Decode(output.ToArray()).Data;
        int red = (8 * width + 4) * 3, blue = (8 * width + 27) * 3;
        Assert.InRange(rgb[red], 230, 255);
        Assert.InRange(rgb[red + 2], 0, 25);
        Assert.InRange(rgb[blue + 2], 230, 255);
        Assert.InRange(rgb[blue], 0, 25);
    }

    [Fact]
    public void Lower_quality_gives_fewer_bytes()
    {
        var pixels = TestPixels.Noise(64, 64, 256, seed: 1);
        using var low = new MemoryStream();
        using var high = new MemoryStream();
        JpegEncoder.Encode(TestPixels.View(pixels, 64, 64, 256), low, 20);
        JpegEncoder.Encode(TestPixels.View(pixels, 64, 64, 256), high, 95);
        Assert.True(low.Length < high.Length);
    }

    [Fact]
    public void Quality_outside_1_to_100_is_rejected()
    {
        var pixels = new byte[16];
        using var output = new MemoryStream();
        Assert.Throws<ArgumentOutOfRangeException>(() => JpegEncoder.Encode(TestPixels.View(pixels, 2, 2, 8), output, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => JpegEncoder.Encode(TestPixels.View(pixels, 2, 2, 8), output, 101));
    }
}
