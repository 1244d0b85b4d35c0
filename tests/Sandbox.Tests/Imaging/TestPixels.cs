using Sandbox.Imaging;
using StbImageSharp;

namespace Sandbox.Tests.Imaging;

/// <summary>Pixel buffers with known content for the imaging tests, and the decode side of round trips.</summary>
internal static class TestPixels
{
    /// <summary>A smooth colour field (JPEG's good case) in BGRX rows of <paramref name="stride"/> bytes: red across, green down, blue diagonal.</summary>
    public static byte[] Gradient(int width, int height, int stride)
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

    /// <summary>Mean absolute difference per channel between the image's RGB and decoded RGB.</summary>
    public static double MeanError(BgraImage image, byte[] rgb)
    {
        long total = 0;
        var expected = ExpectedRgb(image, alpha: false);
        for (int i = 0; i < expected.Length; i++) total += Math.Abs(expected[i] - rgb[i]);
        return (double)total / expected.Length;
    }

    /// <summary>Random BGRX bytes; the padding between rows (stride &gt; width*4) is random too.</summary>
    public static byte[] Noise(int width, int height, int stride, int seed)
    {
        var pixels = new byte[Math.Max(0, (height - 1) * stride + width * 4)];
        new Random(seed).NextBytes(pixels);
        return pixels;
    }

    /// <summary>
    /// Rows of different character (flat, gradients, noise, repeats of the row above) so adaptive filter
    /// choice meets every situation and the vector and scalar paths both see real data.
    /// </summary>
    public static byte[] Mixed(int width, int height, int stride, int seed)
    {
        var random = new Random(seed);
        var pixels = new byte[(height - 1) * stride + width * 4];
        for (int y = 0; y < height; y++)
        {
            var row = pixels.AsSpan(y * stride, width * 4);
            switch (y % 5)
            {
                case 0: row.Fill((byte)(y * 37)); break;
                case 1: for (int i = 0; i < row.Length; i++) row[i] = (byte)(i * 3 + y); break;
                case 2: random.NextBytes(row); break;
                case 3: if (y > 0) pixels.AsSpan((y - 1) * stride, width * 4).CopyTo(row); break;
                default: for (int i = 0; i < row.Length; i++) row[i] = (byte)((i / 4) * (y + 1) ^ (i % 4) * 50); break;
            }
        }
        return pixels;
    }

    public static BgraImage View(byte[] pixels, int width, int height, int stride) => new(pixels, width, height, stride);

    /// <summary>The RGB (or RGBA) bytes a PNG of the view must decode to.</summary>
    public static byte[] ExpectedRgb(BgraImage image, bool alpha)
    {
        int bpp = alpha ? 4 : 3;
        var rgb = new byte[image.Width * image.Height * bpp];
        for (int y = 0; y < image.Height; y++)
        {
            var row = image.Row(y);
            for (int x = 0; x < image.Width; x++)
            {
                int d = (y * image.Width + x) * bpp;
                rgb[d] = row[x * 4 + 2];
                rgb[d + 1] = row[x * 4 + 1];
                rgb[d + 2] = row[x * 4];
                if (alpha) rgb[d + 3] = row[x * 4 + 3];
            }
        }
        return rgb;
    }

    public static ImageResult Decode(byte[] encoded, bool alpha = false) =>
        ImageResult.FromMemory(encoded, alpha ? ColorComponents.RedGreenBlueAlpha : ColorComponents.RedGreenBlue);

    /// <summary>The scenes in tests/fixtures of the repository (always there: the repository is self-contained).</summary>
    public static string? FindScenes()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "fixtures");
            if (File.Exists(Path.Combine(candidate, "office.png"))) return candidate;
        }
        return null;
    }
}
