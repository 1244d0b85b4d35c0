using System.Buffers;

namespace Sandbox.Imaging;

/// <summary>
/// A view of 32-bit pixels in little-endian B,G,R,X byte order (X11 TrueColor depth 24/32 on x86).
/// Stride in bytes may exceed Width*4. The view owns nothing; whoever made the span keeps it alive.
/// </summary>
internal readonly ref struct BgraImage
{
    public const int BytesPerPixel = 4;

    public BgraImage(Span<byte> pixels, int width, int height, int stride)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(width);
        ArgumentOutOfRangeException.ThrowIfNegative(height);
        // Long arithmetic: a hostile stride/height must not wrap into a "valid" small size.
        if ((long)width * BytesPerPixel > stride)
            throw new ArgumentOutOfRangeException(nameof(stride), stride, $"Stride must be at least width*4 ({width * 4L}).");
        // The last row only needs its Width*4 bytes, so a cropped view may end before a full stride.
        long needed = height == 0 || width == 0 ? 0 : (long)(height - 1) * stride + (long)width * BytesPerPixel;
        if (pixels.Length < needed)
            throw new ArgumentException($"Buffer of {pixels.Length} bytes is too small for {width}x{height} with stride {stride} ({needed} bytes).", nameof(pixels));
        Pixels = pixels;
        Width = width;
        Height = height;
        Stride = stride;
    }

    public Span<byte> Pixels { get; }
    public int Width { get; }
    public int Height { get; }
    public int Stride { get; }

    /// <summary>The Width*4 bytes of row <paramref name="y"/>.</summary>
    public Span<byte> Row(int y)
    {
        if ((uint)y >= (uint)Height) throw new ArgumentOutOfRangeException(nameof(y), y, $"Row outside 0..{Height - 1}.");
        return Pixels.Slice(y * Stride, Width * BytesPerPixel);
    }

    /// <summary>A zero-copy sub-view sharing this view's memory and stride.</summary>
    public BgraImage Crop(int x, int y, int width, int height)
    {
        if (x < 0 || y < 0 || width < 0 || height < 0 || (long)x + width > Width || (long)y + height > Height)
            throw new ArgumentOutOfRangeException(nameof(x), $"Crop ({x},{y}) {width}x{height} is outside the {Width}x{Height} image.");
        if (width == 0 || height == 0) return new BgraImage(Span<byte>.Empty, width, height, Stride);
        int start = y * Stride + x * BytesPerPixel;
        int length = (height - 1) * Stride + width * BytesPerPixel;
        return new BgraImage(Pixels.Slice(start, length), width, height, Stride);
    }
}

/// <summary>A pooled, tightly packed (stride = width*4) BGRX pixel buffer, e.g. the result of scaling.</summary>
internal sealed class BgraBuffer : IDisposable
{
    private byte[]? _array;

    public BgraBuffer(int width, int height)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(width);
        ArgumentOutOfRangeException.ThrowIfNegative(height);
        long length = (long)width * height * BgraImage.BytesPerPixel;
        if (length > Array.MaxLength) throw new ArgumentOutOfRangeException(nameof(width), $"{width}x{height} is too large.");
        Width = width;
        Height = height;
        Length = (int)length;
        _array = ArrayPool<byte>.Shared.Rent(Length);
    }

    public int Width { get; }
    public int Height { get; }
    public int Stride => Width * BgraImage.BytesPerPixel;
    /// <summary>Bytes in use; the rented array may be longer.</summary>
    public int Length { get; }

    public BgraImage Image => new(Span, Width, Height, Stride);

    public Span<byte> Span => (_array ?? throw new ObjectDisposedException(nameof(BgraBuffer))).AsSpan(0, Length);

    public void Dispose()
    {
        // Swap first so a second Dispose (or a racing one) cannot return the array twice.
        var array = Interlocked.Exchange(ref _array, null);
        if (array is not null) ArrayPool<byte>.Shared.Return(array);
    }
}
