using System.Runtime.InteropServices;
using Sandbox.Native;

namespace Sandbox.Imaging;

/// <summary>
/// JPEG through libjpeg-turbo's TurboJPEG API, straight from a BGRX view (no RGB conversion, SIMD DCT):
/// about 6 ms for a 1920×1080 desktop where StbImageWriteSharp needs 40–100 ms. Not thread-safe: one
/// compressor per thread of use. <see cref="TryCreate"/> returns null when the library is absent, and
/// callers fall back to <see cref="JpegEncoder"/>.
/// </summary>
internal sealed unsafe class TurboJpegEncoder : IDisposable
{
    private readonly SafeTurboJpegHandle _handle;
    private byte[] _buffer = [];

    private TurboJpegEncoder(nint handle) => _handle = new SafeTurboJpegHandle(handle);

    /// <summary>Why the last <see cref="TryCreate"/> failed, for a log line.</summary>
    public static string? UnavailableReason { get; private set; }

    public static TurboJpegEncoder? TryCreate()
    {
        try
        {
            var h = TurboJpeg.tjInitCompress();
            if (h != 0) return new TurboJpegEncoder(h);
            UnavailableReason = "tjInitCompress failed";
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            UnavailableReason = $"{Libraries.TurboJpeg} is missing (Debian package libturbojpeg0)";
        }
        return null;
    }

    /// <summary>
    /// Compresses <paramref name="image"/> (4:2:0, fast DCT) and returns the JPEG bytes, valid until the
    /// next call on this encoder.
    /// </summary>
    public ReadOnlySpan<byte> Encode(BgraImage image, int quality) => Encode(image, quality, TurboJpeg.Subsampling420);

    /// <summary>
    /// As <see cref="JpegEncoder"/> decides: 4:4:4 above quality 90, 4:2:0 up to 90 (stb_image_write's rule; both use the IJG quality scale), so the
    /// quality scale and chroma detail of /screenshot?format=jpeg stay what the stb fallback gives.
    /// </summary>
    public ReadOnlySpan<byte> EncodeLikeStb(BgraImage image, int quality) =>
        Encode(image, quality, quality > 90 ? TurboJpeg.Subsampling444 : TurboJpeg.Subsampling420);

    private ReadOnlySpan<byte> Encode(BgraImage image, int quality, int subsampling)
    {
        ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
        ArgumentOutOfRangeException.ThrowIfLessThan(quality, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(quality, 100);
        if (image.Width < 1 || image.Height < 1) throw new ArgumentException("JPEG needs at least one pixel.", nameof(image));

        var bound = (long)TurboJpeg.tjBufSize(image.Width, image.Height, subsampling);
        if (bound <= 0 || bound > Array.MaxLength) throw new ArgumentException("Image too large for JPEG.", nameof(image));
        if (_buffer.Length < bound) _buffer = GC.AllocateUninitializedArray<byte>((int)bound);

        var added = false;
        _handle.DangerousAddRef(ref added);   // throws ObjectDisposedException once disposed
        try
        {
            return Compress(_handle.DangerousGetHandle(), image, quality, subsampling);
        }
        finally
        {
            if (added) _handle.DangerousRelease();
        }
    }

    private ReadOnlySpan<byte> Compress(nint handle, BgraImage image, int quality, int subsampling)
    {
        fixed (byte* src = image.Pixels)
        fixed (byte* output = _buffer)
        {
            var dst = output;
            var size = (nuint)_buffer.Length;
            var rc = TurboJpeg.tjCompress2(handle, src, image.Width, image.Stride, image.Height, TurboJpeg.PixelFormatBgrx,
                &dst, &size, subsampling, quality, TurboJpeg.FlagNoRealloc | TurboJpeg.FlagFastDct);
            if (rc != 0)
                throw new InvalidOperationException("tjCompress2: " + Marshal.PtrToStringUTF8((nint)TurboJpeg.tjGetErrorStr2(handle)));
            return _buffer.AsSpan(0, (int)size);
        }
    }

    public void Dispose() => _handle.Dispose();
}
