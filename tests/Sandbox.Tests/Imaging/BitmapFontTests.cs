using Sandbox.Imaging;

namespace Sandbox.Tests.Imaging;

public sealed class BitmapFontTests
{
    private static int Count(byte[] pixels, Rgb colour)
    {
        int n = 0;
        for (int i = 0; i < pixels.Length; i += 4)
            if (pixels[i] == colour.B && pixels[i + 1] == colour.G && pixels[i + 2] == colour.R) n++;
        return n;
    }

    [Fact]
    public void Glyph_table_covers_printable_ascii_in_9x15_cells()
    {
        Assert.Equal(9, BitmapFont.Advance);
        Assert.Equal(15, BitmapFont.Height);
        Assert.Equal((LastChar: 126, FirstChar: 32), (LastChar: (int)FixedFont.LastChar, FirstChar: (int)FixedFont.FirstChar));
        Assert.Equal(95 * 15, FixedFont.Rows.Length);
    }

    [Fact]
    public void A_has_pixels_and_space_has_none()
    {
        var a = new byte[9 * 15 * 4];
        BitmapFont.DrawText(TestPixels.View(a, 9, 15, 36), 0, 0, "A", Rgb.Red);
        Assert.InRange(Count(a, Rgb.Red), 10, 9 * 15 - 1);
        var space = new byte[9 * 15 * 4];
        BitmapFont.DrawText(TestPixels.View(space, 9, 15, 36), 0, 0, " ", Rgb.Red);
        Assert.Equal(0, Count(space, Rgb.Red));
    }

    [Theory]
    [InlineData("")]
    [InlineData("x")]
    [InlineData("mouse: x=1919 y=1079")]
    public void Text_width_is_length_times_advance(string text) =>
        Assert.Equal(text.Length * BitmapFont.Advance, BitmapFont.MeasureWidth(text));

    [Fact]
    public void Drawing_stays_inside_the_text_cells()
    {
        const int width = 60, height = 30;
        var pixels = new byte[width * height * 4];
        BitmapFont.DrawText(TestPixels.View(pixels, width, height, width * 4), 5, 7, "Wg|@", Rgb.White);
        var cells = new PixelRect(5, 7, 4 * 9, 15);
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                if (pixels[(y * width + x) * 4] != 0) Assert.True(cells.Contains(x, y), $"pixel ({x},{y}) outside the cells");
        Assert.True(Count(pixels, Rgb.White) > 20);
    }

    [Fact]
    public void Clipped_text_draws_exactly_the_visible_part()
    {
        // Reference: the text fully visible on a large canvas; then the same text half off a small one.
        const string text = "Clip@me";
        var big = new byte[120 * 60 * 4];
        BitmapFont.DrawText(TestPixels.View(big, 120, 60, 480), 20, 20, text, Rgb.Red);
        foreach (var (dx, dy) in new[] { (-4, -5), (-30, 3), (10, -14), (-62, -14) })
        {
            var small = new byte[16 * 12 * 4];
            BitmapFont.DrawText(TestPixels.View(small, 16, 12, 64), dx, dy, text, Rgb.Red);
            for (int y = 0; y < 12; y++)
                for (int x = 0; x < 16; x++)
                    Assert.Equal(big[((y - dy + 20) * 120 + (x - dx + 20)) * 4 + 2], small[(y * 16 + x) * 4 + 2]);
        }
    }

    [Fact]
    public void Drawing_anywhere_never_throws()
    {
        var pixels = new byte[7 * 5 * 4];
        var positions = new[] { int.MinValue, -1000, -9, -1, 0, 3, 6, 7, 1000, int.MaxValue - 5, int.MaxValue };
        foreach (int x in positions)
            foreach (int y in positions)
            {
                BitmapFont.DrawText(TestPixels.View(pixels, 7, 5, 28), x, y, "Hello, world", Rgb.Red);
                BitmapFont.DrawTextWithHalo(TestPixels.View(pixels, 7, 5, 28), x, y, "Hi", Rgb.Red, Rgb.White);
            }
        BitmapFont.DrawText(new BgraImage(Span<byte>.Empty, 0, 0, 0), 0, 0, "x", Rgb.Red);
    }

    [Fact]
    public void Characters_outside_ascii_draw_as_a_question_mark()
    {
        var expected = new byte[9 * 15 * 4];
        var actual = new byte[9 * 15 * 4];
        BitmapFont.DrawText(TestPixels.View(expected, 9, 15, 36), 0, 0, "?", Rgb.Red);
        BitmapFont.DrawText(TestPixels.View(actual, 9, 15, 36), 0, 0, "é", Rgb.Red);
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void Halo_surrounds_strokes_and_reaches_one_pixel_past_the_cells()
    {
        const int width = 30, height = 25;
        var pixels = new byte[width * height * 4];
        BitmapFont.DrawTextWithHalo(TestPixels.View(pixels, width, height, width * 4), 5, 5, "I", Rgb.Red, Rgb.White);
        Assert.True(Count(pixels, Rgb.White) > Count(pixels, Rgb.Red));
        var area = new PixelRect(4, 4, 9 + 2, 15 + 2);
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                if (pixels[(y * width + x) * 4 + 2] != 0) Assert.True(area.Contains(x, y));
        // Every red pixel's 8 neighbours are red or white.
        for (int y = 1; y < height - 1; y++)
            for (int x = 1; x < width - 1; x++)
                if (pixels[(y * width + x) * 4 + 2] == 255 && pixels[(y * width + x) * 4] == 0)
                    for (int ny = y - 1; ny <= y + 1; ny++)
                        for (int nx = x - 1; nx <= x + 1; nx++)
                            Assert.Equal(255, pixels[(ny * width + nx) * 4 + 2]);
    }
}
