using Sandbox.Imaging;

namespace Sandbox.Tests.Imaging;

public sealed class AnnotationTests
{
    private const int Width = 320, Height = 200;

    public static TheoryData<int, int> Pointers()
    {
        var data = new TheoryData<int, int>();
        foreach (int x in new[] { 0, 1, 5, 10, 11, 160, 250, 300, 309, 318, 319 })
            foreach (int y in new[] { 0, 3, 10, 29, 30, 40, 100, 185, 190, 199 })
                data.Add(x, y);
        return data;
    }

    [Theory]
    [MemberData(nameof(Pointers))]
    public void Changes_pixels_only_inside_Bounds_and_keeps_the_label_on_screen(int px, int py)
    {
        var original = TestPixels.Noise(Width, Height, Width * 4, seed: px * 1000 + py);
        var pixels = (byte[])original.Clone();
        var layout = Annotation.Draw(TestPixels.View(pixels, Width, Height, Width * 4), px, py);
        var bounds = Annotation.Bounds(px, py, Width, Height);

        Assert.Equal(layout.Bounds(Width, Height), bounds);
        Assert.False(bounds.IsEmpty);
        Assert.True(layout.Label.X >= 0 && layout.Label.Y >= 0 && layout.Label.Right <= Width && layout.Label.Bottom <= Height,
            $"label {layout.Label} leaves the screen");
        int changed = 0;
        for (int y = 0; y < Height; y++)
            for (int x = 0; x < Width; x++)
            {
                int o = (y * Width + x) * 4;
                if (original.AsSpan(o, 4).SequenceEqual(pixels.AsSpan(o, 4))) continue;
                changed++;
                Assert.True(bounds.Contains(x, y), $"pixel ({x},{y}) changed outside {bounds}");
                Assert.Equal(original[o + 3], pixels[o + 3]);   // padding byte untouched
                var colour = (pixels[o + 2], pixels[o + 1], pixels[o]);
                Assert.True(colour == (255, 0, 0) || colour == (255, 255, 255), $"unexpected colour {colour}");
            }
        Assert.True(changed > 100);
    }

    [Fact]
    public void Box_is_a_2px_red_ring_of_21px_centred_on_the_pointer()
    {
        var pixels = new byte[Width * Height * 4];
        Annotation.Draw(TestPixels.View(pixels, Width, Height, Width * 4), 100, 100);
        bool Red(int x, int y) => pixels[(y * Width + x) * 4 + 2] == 255 && pixels[(y * Width + x) * 4] == 0;
        Assert.True(Red(90, 90) && Red(110, 110) && Red(91, 100) && Red(109, 100) && Red(100, 91));
        Assert.False(Red(92, 100) || Red(100, 100) || Red(89, 100) || Red(111, 100) || Red(100, 112));
    }

    [Fact]
    public void Label_sits_above_the_box_when_there_is_room_and_below_at_the_top_edge()
    {
        var middle = Annotation.Layout(100, 100, Width, Height);
        Assert.True(middle.Label.Bottom <= middle.Box.Y);
        Assert.Equal(middle.Box.X, middle.Label.X);
        var top = Annotation.Layout(100, 5, Width, Height);
        Assert.True(top.Label.Y >= top.Box.Bottom);
    }

    [Fact]
    public void Label_is_pushed_left_at_the_right_edge()
    {
        var layout = Annotation.Layout(Width - 1, 100, Width, Height);
        Assert.Equal(Width, layout.Label.Right);
    }

    [Fact]
    public void Label_text_matches_the_old_suite()
    {
        Assert.Equal("mouse: x=12 y=345", Annotation.LabelText(12, 345));
        Assert.Equal("mouse: x=12 y=345", Annotation.Layout(12, 345, 1920, 1080).Text);
    }

    [Fact]
    public void Label_is_drawn_as_red_text()
    {
        var pixels = new byte[Width * Height * 4];
        var layout = Annotation.Draw(TestPixels.View(pixels, Width, Height, Width * 4), 150, 150);
        int red = 0;
        for (int y = layout.Label.Y; y < layout.Label.Bottom; y++)
            for (int x = layout.Label.X; x < layout.Label.Right; x++)
                if (pixels[(y * Width + x) * 4 + 2] == 255 && pixels[(y * Width + x) * 4] == 0) red++;
        Assert.True(red > 100);
    }

    [Fact]
    public void Screens_smaller_than_the_label_clip_without_throwing()
    {
        var pixels = new byte[20 * 10 * 4];
        Annotation.Draw(TestPixels.View(pixels, 20, 10, 80), 5, 5);
        Assert.Equal(new PixelRect(0, 0, 20, 10), Annotation.Bounds(5, 5, 20, 10));
    }
}
