using Sandbox.Imaging;

namespace Sandbox.Tests.Imaging;

public sealed class BgraImageTests
{
    [Fact]
    public void Row_returns_width_times_four_bytes_at_the_stride()
    {
        var pixels = new byte[3 * 24];
        pixels[2 * 24] = 7;
        var image = new BgraImage(pixels, 5, 3, 24);
        Assert.Equal(20, image.Row(2).Length);
        Assert.Equal(7, image.Row(2)[0]);
    }

    [Fact]
    public void Last_row_needs_only_its_own_bytes_not_a_full_stride()
    {
        var image = new BgraImage(new byte[24 + 8], 2, 2, 24);
        Assert.Equal(8, image.Row(1).Length);
    }

    [Fact]
    public void Constructor_rejects_short_stride_and_short_buffer()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new BgraImage(new byte[100], 5, 2, 19));
        Assert.Throws<ArgumentException>(() => new BgraImage(new byte[39], 5, 2, 20));
        Assert.Throws<ArgumentOutOfRangeException>(() => new BgraImage(new byte[100], -1, 2, 20));
    }

    [Fact]
    public void Row_outside_the_image_throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new BgraImage(new byte[16], 2, 2, 8).Row(2));
        Assert.Throws<ArgumentOutOfRangeException>(() => new BgraImage(new byte[16], 2, 2, 8).Row(-1));
    }

    [Fact]
    public void Crop_is_a_view_onto_the_same_memory()
    {
        var pixels = new byte[10 * 8 * 4];
        var image = new BgraImage(pixels, 10, 8, 40);
        var crop = image.Crop(3, 2, 4, 5);
        Assert.Equal((4, 5, 40), (crop.Width, crop.Height, crop.Stride));
        crop.Row(1)[0] = 99;
        Assert.Equal(99, pixels[3 * 40 + 3 * 4]);
        var inner = crop.Crop(1, 1, 2, 2);
        inner.Row(0)[0] = 42;
        Assert.Equal(42, pixels[3 * 40 + 4 * 4]);
    }

    [Fact]
    public void Crop_validates_bounds()
    {
        var pixels = new byte[10 * 8 * 4];
        Assert.Throws<ArgumentOutOfRangeException>(() => new BgraImage(pixels, 10, 8, 40).Crop(7, 0, 4, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new BgraImage(pixels, 10, 8, 40).Crop(0, 5, 1, 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => new BgraImage(pixels, 10, 8, 40).Crop(-1, 0, 1, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new BgraImage(pixels, 10, 8, 40).Crop(0, 0, int.MaxValue, 1));
        Assert.Equal(0, new BgraImage(pixels, 10, 8, 40).Crop(10, 8, 0, 0).Width);
    }

    [Fact]
    public void Buffer_is_tightly_packed_and_dispose_is_idempotent()
    {
        var buffer = new BgraBuffer(3, 2);
        Assert.Equal(12, buffer.Stride);
        Assert.Equal(24, buffer.Image.Pixels.Length);
        buffer.Dispose();
        buffer.Dispose();
        Assert.Throws<ObjectDisposedException>(() => buffer.Span.Length);
    }
}
