using Sandbox.Imaging;

namespace Sandbox.Tests.Imaging;

/// <summary>libjpeg-turbo through TurboJPEG (Debian libturbojpeg0, in the test package list).</summary>
public sealed class TurboJpegEncoderTests
{
    [Theory]
    [InlineData(64, 48, 0)]
    [InlineData(37, 23, 12)]
    [InlineData(1, 1, 0)]
    public void Decodes_to_the_same_size_and_colours_from_a_strided_bgrx_view(int width, int height, int pad)
    {
        using var encoder = TurboJpegEncoder.TryCreate();
        Assert.True(encoder is not null, TurboJpegEncoder.UnavailableReason);
        int stride = width * 4 + pad;
        var pixels = TestPixels.Gradient(width, height, stride);
        var image = TestPixels.View(pixels, width, height, stride);
        var jpeg = encoder.Encode(image, 90).ToArray();
        Assert.Equal(0xFF, jpeg[0]);
        Assert.Equal(0xD8, jpeg[1]);

        var decoded = TestPixels.Decode(jpeg);
        Assert.Equal((width, height), (decoded.Width, decoded.Height));
        var error = TestPixels.MeanError(image, decoded.Data);
        Assert.True(error < 4, $"mean error {error:F2}");
    }

    [Fact]
    public void Reuses_its_buffer_and_each_result_is_a_whole_jpeg()
    {
        using var encoder = TurboJpegEncoder.TryCreate()!;
        var small = encoder.Encode(TestPixels.View(TestPixels.Gradient(16, 16, 64), 16, 16, 64), 80).ToArray();
        var large = encoder.Encode(TestPixels.View(TestPixels.Gradient(300, 200, 1200), 300, 200, 1200), 80).ToArray();
        var again = encoder.Encode(TestPixels.View(TestPixels.Gradient(16, 16, 64), 16, 16, 64), 80).ToArray();
        Assert.Equal(small, again);
        Assert.Equal((300, 200), (TestPixels.Decode(large).Width, TestPixels.Decode(large).Height));
        Assert.Equal([0xFF, 0xD9], large[^2..]);
    }
}
