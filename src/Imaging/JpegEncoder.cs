using System.Buffers;
using StbImageWriteSharp;

namespace Sandbox.Imaging;

/// <summary>
/// JPEG through StbImageWriteSharp (baseline, 4:2:0 below quality 90 as stb decides). stb wants one
/// contiguous RGB buffer, so this is the one path that converts the whole frame, into a pooled array.
/// </summary>
internal static class JpegEncoder
{
    public const int DefaultQuality = 80;

    /// <summary>Encodes <paramref name="image"/> as JPEG with <paramref name="quality"/> 1–100 to <paramref name="output"/> (left open).</summary>
    public static void Encode(BgraImage image, Stream output, int quality = DefaultQuality)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentOutOfRangeException.ThrowIfLessThan(quality, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(quality, 100);
        if (image.Width < 1 || image.Height < 1) throw new ArgumentException("JPEG needs at least one pixel.", nameof(image));
        // JPEG's frame header stores 16-bit dimensions.
        if (image.Width > 65535 || image.Height > 65535) throw new ArgumentException("JPEG dimensions are limited to 65535.", nameof(image));

        int rowBytes = image.Width * 3;
        long length = (long)rowBytes * image.Height;
        if (length + PngFilters.Slack > Array.MaxLength) throw new ArgumentException("Image too large for JPEG.", nameof(image));
        // Slack lets the vector swizzle store whole vectors on the last row.
        var rgb = ArrayPool<byte>.Shared.Rent((int)length + PngFilters.Slack);
        try
        {
            for (int y = 0; y < image.Height; y++)
                PngFilters.ConvertRow(image.Row(y), rgb.AsSpan(y * rowBytes, rowBytes + PngFilters.Slack), alpha: false);
            new ImageWriter().WriteJpg(rgb, image.Width, image.Height, ColorComponents.RedGreenBlue, output, quality);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rgb);
        }
    }
}
