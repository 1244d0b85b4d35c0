using Sandbox.Imaging;

namespace Sandbox.Tests.Imaging;

public sealed class JpegEncoderTests
{
    [Theory]
    [InlineData(64, 48, 0, 80)]
    [InlineData(37, 23, 8, 90)]
    [InlineData(1, 1, 0, 100)]
    public void Decodes_to_the_same_size_and_nearly_the_same_colours(int width, int height, int pad, int quality)
    {
        int stride = width * 4 + pad;
        var pixels = TestPixels.Gradient(width, height, stride);
        using var output = new MemoryStream();
        JpegEncoder.Encode(TestPixels.View(pixels, width, height, stride), output, quality);
        var bytes = output.ToArray();
        Assert.Equal(new byte[] { 0xFF, 0xD8 }, bytes[..2]);
        var decoded = TestPixels.Decode(bytes);
        Assert.Equal((width, height), (decoded.Width, decoded.Height));
        Assert.InRange(TestPixels.MeanError(TestPixels.View(pixels, width, height, stride), decoded.Data), 0, 4);
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
