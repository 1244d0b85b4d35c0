namespace Sandbox.Imaging;

/// <summary>32 bits per pixel, little-endian B,G,R,X byte order. Stride in bytes may exceed Width*4.</summary>
internal readonly ref struct BgraImage
{
    public BgraImage(Span<byte> pixels, int width, int height, int stride)
    {
        if (width < 0 || height < 0 || stride < width * 4 || (height > 0 && pixels.Length < (long)stride * (height - 1) + width * 4))
            throw new ArgumentException("pixel buffer too small for the given size");
        Pixels = pixels;
        Width = width;
        Height = height;
        Stride = stride;
    }

    public Span<byte> Pixels { get; }
    public int Width { get; }
    public int Height { get; }
    public int Stride { get; }

    public Span<byte> Row(int y) => Pixels.Slice(y * Stride, Width * 4);

    public BgraImage Crop(int x, int y, int w, int h)
    {
        if (x < 0 || y < 0 || w < 0 || h < 0 || x + w > Width || y + h > Height)
            throw new ArgumentOutOfRangeException(nameof(x), "crop outside the image");
        if (w == 0 || h == 0) return new BgraImage([], w, h, w * 4);
        return new BgraImage(Pixels.Slice(y * Stride + x * 4, (h - 1) * Stride + w * 4), w, h, Stride);
    }
}
