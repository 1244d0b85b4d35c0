using Sandbox.Imaging;

namespace Sandbox.Tests.Imaging;

public sealed class ResamplerTests
{
    [Theory]
    [InlineData(1920, 1080, 1280, 1280, 1280, 720)]
    [InlineData(1920, 1080, 1024, 768, 1024, 576)]
    [InlineData(1920, 1080, 4000, 4000, 1920, 1080)]   // never upscales
    [InlineData(1920, 1080, 1920, 1080, 1920, 1080)]
    [InlineData(10000, 1, 100, 100, 100, 1)]           // never 0
    [InlineData(1, 10000, 100, 100, 1, 100)]
    [InlineData(3, 3, 1, 1, 1, 1)]
    [InlineData(1366, 768, 1000, 1000, 1000, 562)]
    public void FitWithin_keeps_aspect_never_upscales_and_never_returns_zero(int w, int h, int maxW, int maxH, int expectedW, int expectedH)
    {
        var (fw, fh) = Resampler.FitWithin(w, h, maxW, maxH);
        Assert.Equal((expectedW, expectedH), (fw, fh));
        Assert.InRange(fw, 1, Math.Min(w, maxW));
        Assert.InRange(fh, 1, Math.Min(h, maxH));
    }

    [Fact]
    public void FitWithin_rejects_non_positive_sizes()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Resampler.FitWithin(0, 10, 5, 5));
        Assert.Throws<ArgumentOutOfRangeException>(() => Resampler.FitWithin(10, 10, 0, 5));
    }

    [Fact]
    public void Constant_image_stays_exactly_constant_at_any_ratio()
    {
        var pixels = new byte[37 * 23 * 4];
        for (int i = 0; i < pixels.Length; i += 4) (pixels[i], pixels[i + 1], pixels[i + 2], pixels[i + 3]) = (17, 200, 255, 0);
        foreach (var (w, h) in new[] { (10, 7), (36, 22), (1, 1), (19, 23), (37, 5) })
        {
            using var scaled = Resampler.Resize(TestPixels.View(pixels, 37, 23, 37 * 4), w, h);
            for (int i = 0; i < scaled.Length; i += 4)
                Assert.Equal((17, 200, 255, 0), (scaled.Span[i], scaled.Span[i + 1], scaled.Span[i + 2], scaled.Span[i + 3]));
        }
    }

    [Fact]
    public void Halving_averages_each_2x2_block()
    {
        var random = new Random(1);
        var pixels = new byte[6 * 4 * 4];
        random.NextBytes(pixels);
        using var scaled = Resampler.Resize(TestPixels.View(pixels, 6, 4, 24), 3, 2);
        for (int y = 0; y < 2; y++)
            for (int x = 0; x < 3; x++)
                for (int c = 0; c < 4; c++)
                {
                    int sum = pixels[(2 * y) * 24 + 2 * x * 4 + c] + pixels[(2 * y) * 24 + (2 * x + 1) * 4 + c]
                            + pixels[(2 * y + 1) * 24 + 2 * x * 4 + c] + pixels[(2 * y + 1) * 24 + (2 * x + 1) * 4 + c];
                    Assert.Equal((sum + 2) / 4, scaled.Span[y * 12 + x * 4 + c]);   // rounded, halves up
                }
    }

    [Fact]
    public void Fractional_coverage_is_weighted_by_area()
    {
        // 3 → 2: output 0 covers source [0, 1.5), output 1 covers [1.5, 3).
        var pixels = new byte[] { 0, 0, 0, 0, 90, 90, 90, 90, 180, 180, 180, 180 };
        using var scaled = Resampler.Resize(TestPixels.View(pixels, 3, 1, 12), 2, 1);
        Assert.Equal(30, scaled.Span[0]);    // (0·1 + 90·0.5) / 1.5
        Assert.Equal(150, scaled.Span[4]);   // (90·0.5 + 180·1) / 1.5
    }

    [Fact]
    public void Fit_reports_the_exact_factors_and_maps_coordinates_back()
    {
        var pixels = new byte[1920 * 1080 * 4];
        using var scaled = Resampler.Fit(TestPixels.View(pixels, 1920, 1080, 1920 * 4), 1280, 1280, out var scale);
        Assert.Equal((1280, 720), (scaled.Width, scaled.Height));
        Assert.Equal(1280.0 / 1920, scale.X);
        Assert.Equal(720.0 / 1080, scale.Y);
        var (ox, oy) = scale.ToOriginal(640, 360);
        Assert.Equal(960, ox, 9);
        Assert.Equal(540, oy, 9);
    }

    [Fact]
    public void Fit_of_an_image_that_already_fits_is_an_exact_copy_with_factor_one()
    {
        var pixels = TestPixels.Noise(9, 5, 44, seed: 2);
        using var scaled = Resampler.Fit(TestPixels.View(pixels, 9, 5, 44), 100, 100, out var scale);
        Assert.Equal(ScaleFactors.Identity, scale);
        for (int y = 0; y < 5; y++)
            Assert.Equal(pixels.AsSpan(y * 44, 36).ToArray(), scaled.Image.Row(y).ToArray());
    }

    [Fact]
    public void Cropped_and_padded_sources_resample_only_their_pixels()
    {
        // A white 4x4 square inside a black frame; cropping to the square must give pure white.
        const int stride = 10 * 4 + 8;
        var pixels = new byte[10 * stride];
        for (int y = 3; y < 7; y++) pixels.AsSpan(y * stride + 3 * 4, 16).Fill(255);
        using var scaled = Resampler.Resize(TestPixels.View(pixels, 10, 10, stride).Crop(3, 3, 4, 4), 3, 3);
        Assert.All(scaled.Span.ToArray(), b => Assert.Equal(255, b));
    }

    [Fact]
    public void Thin_lines_survive_downscaling_as_grey_instead_of_vanishing()
    {
        // A 1 px white column every 2 px, scaled by 1/3: a point sampler lands on all-line or all-gap pixels.
        const int width = 48, height = 6;
        var pixels = new byte[width * height * 4];
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x += 2) pixels.AsSpan((y * width + x) * 4, 4).Fill(255);
        using var scaled = Resampler.Resize(TestPixels.View(pixels, width, height, width * 4), 16, 2);
        var row = scaled.Image.Row(0);
        for (int x = 0; x < 16; x++) Assert.True(row[x * 4] is 85 or 170, $"pixel {x}: {row[x * 4]}");   // one or two of its three columns are lines
    }
}
