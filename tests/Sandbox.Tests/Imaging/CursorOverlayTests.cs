using Sandbox.Imaging;

namespace Sandbox.Tests.Imaging;

public sealed class CursorOverlayTests
{
    private static uint Argb(byte a, byte r, byte g, byte b) => (uint)(a << 24 | r << 16 | g << 8 | b);

    private static byte[] Solid(int width, int height, byte b, byte g, byte r, byte x = 0x5A)
    {
        var pixels = new byte[width * height * 4];
        for (int i = 0; i < pixels.Length; i += 4) (pixels[i], pixels[i + 1], pixels[i + 2], pixels[i + 3]) = (b, g, r, x);
        return pixels;
    }

    private static (byte B, byte G, byte R, byte X) At(byte[] pixels, int width, int x, int y)
    {
        int o = (y * width + x) * 4;
        return (pixels[o], pixels[o + 1], pixels[o + 2], pixels[o + 3]);
    }

    [Fact]
    public void Div255_is_exactly_rounded_over_the_whole_range()
    {
        for (uint t = 0; t <= 255 * 255; t++)
            Assert.Equal((uint)Math.Round(t / 255.0, MidpointRounding.AwayFromZero), CursorOverlay.Div255(t));
    }

    [Fact]
    public void Alpha_zero_leaves_dst_alpha_255_replaces_and_128_blends()
    {
        var pixels = Solid(3, 1, b: 50, g: 100, r: 200);
        uint[] cursor = [0, Argb(255, 1, 2, 3), Argb(128, 128, 64, 0)];
        CursorOverlay.Composite(TestPixels.View(pixels, 3, 1, 12), cursor, 3, 1, 0, 0);
        Assert.Equal(((byte)50, (byte)100, (byte)200, (byte)0x5A), At(pixels, 3, 0, 0));
        Assert.Equal(((byte)3, (byte)2, (byte)1, (byte)0x5A), At(pixels, 3, 1, 0));
        // dst·127/255: 200 → 99.6 → 100, 100 → 49.8 → 50, 50 → 24.9 → 25; then add the premultiplied source.
        Assert.Equal(((byte)(0 + 25), (byte)(64 + 50), (byte)(128 + 100), (byte)0x5A), At(pixels, 3, 2, 0));
    }

    [Fact]
    public void Every_alpha_and_channel_value_follows_the_over_formula()
    {
        var pixels = new byte[256 * 4];
        var cursor = new uint[256];
        for (int a = 0; a < 256; a++)
        {
            for (int i = 0; i < 256; i++)
            {
                pixels[i * 4] = (byte)i;
                pixels[i * 4 + 1] = (byte)(255 - i);
                pixels[i * 4 + 2] = (byte)(i * 7);
                byte s = (byte)(a * ((i * 13) % 256) / 255);   // a valid premultiplied value ≤ a
                cursor[i] = Argb((byte)a, s, s, s);
            }
            var before = (byte[])pixels.Clone();
            CursorOverlay.Composite(TestPixels.View(pixels, 256, 1, 1024), cursor, 256, 1, 0, 0);
            for (int i = 0; i < 256; i++)
                for (int c = 0; c < 3; c++)
                {
                    int s = (int)(cursor[i] & 0xFF);
                    int expected = Math.Min(255, s + (int)Math.Round(before[i * 4 + c] * (255 - a) / 255.0, MidpointRounding.AwayFromZero));
                    if (cursor[i] == 0) expected = before[i * 4 + c];
                    Assert.Equal(expected, pixels[i * 4 + c]);
                }
        }
    }

    [Fact]
    public void Colour_above_alpha_saturates_instead_of_wrapping()
    {
        var pixels = Solid(1, 1, 250, 250, 250);
        CursorOverlay.Composite(TestPixels.View(pixels, 1, 1, 4), [Argb(10, 255, 255, 255)], 1, 1, 0, 0);
        Assert.Equal(((byte)255, (byte)255, (byte)255, (byte)0x5A), At(pixels, 1, 0, 0));
    }

    public static TheoryData<int, int> Placements()
    {
        var data = new TheoryData<int, int>();
        // Around every edge and corner of a 10x8 screen with a 4x3 cursor, plus fully outside.
        foreach (int x in new[] { -4, -3, -2, -1, 0, 3, 6, 7, 8, 9, 10 })
            foreach (int y in new[] { -3, -2, -1, 0, 2, 5, 6, 7, 8 })
                data.Add(x, y);
        data.Add(int.MinValue, 0);
        data.Add(int.MaxValue, int.MaxValue);
        data.Add(-1000, -1000);
        return data;
    }

    [Theory]
    [MemberData(nameof(Placements))]
    public void Clips_on_every_edge_and_corner(int x, int y)
    {
        const int width = 10, height = 8, cw = 4, ch = 3;
        var cursor = new uint[cw * ch];
        for (int i = 0; i < cursor.Length; i++) cursor[i] = Argb(255, (byte)(i + 1), (byte)(i + 101), (byte)(i + 201));
        var pixels = Solid(width, height, 9, 9, 9);
        CursorOverlay.Composite(TestPixels.View(pixels, width, height, width * 4), cursor, cw, ch, x, y);
        for (int py = 0; py < height; py++)
            for (int px = 0; px < width; px++)
            {
                long cx = (long)px - x, cy = (long)py - y;
                bool covered = cx >= 0 && cx < cw && cy >= 0 && cy < ch;
                int i = (int)(cy * cw + cx);
                var expected = covered ? ((byte)(i + 201), (byte)(i + 101), (byte)(i + 1), (byte)0x5A) : ((byte)9, (byte)9, (byte)9, (byte)0x5A);
                Assert.Equal(expected, At(pixels, width, px, py));
            }
    }

    [Fact]
    public void Works_on_a_cropped_padded_view()
    {
        const int stride = 8 * 4 + 4;
        var pixels = new byte[6 * stride];
        var view = TestPixels.View(pixels, 8, 6, stride).Crop(2, 2, 3, 3);
        CursorOverlay.Composite(view, [Argb(255, 255, 255, 255), Argb(255, 255, 255, 255), Argb(255, 255, 255, 255), Argb(255, 255, 255, 255)], 2, 2, 2, 2);
        // Only the crop's bottom-right pixel (4,4) is covered.
        int white = 0;
        for (int i = 0; i < pixels.Length; i += 4) if (pixels[i] == 255) white++;
        Assert.Equal(1, white);
        Assert.Equal(255, pixels[4 * stride + 4 * 4]);
    }

    [Fact]
    public void Too_short_cursor_data_is_rejected()
    {
        var pixels = new byte[16];
        Assert.Throws<ArgumentException>(() => CursorOverlay.Composite(TestPixels.View(pixels, 2, 2, 8), new uint[3], 2, 2, 0, 0));
    }
}
