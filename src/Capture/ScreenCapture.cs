using System.Buffers;
using System.Numerics;
using Microsoft.Extensions.Logging;
using Sandbox.Display;
using Sandbox.Imaging;
using Sandbox.Native;

namespace Sandbox.Capture;

/// <summary>The cursor as XFixes reports it: premultiplied ARGB, one uint per pixel.</summary>
internal sealed record CursorImage(uint[] Pixels, int Width, int Height, int XHot, int YHot, nuint Serial);

/// <summary>A captured screen, valid only during the <see cref="FrameProcessor{TState,TResult}"/> call.</summary>
internal readonly ref struct CapturedFrame(BgraImage image, int pointerX, int pointerY, CursorImage? cursor, bool sharedMemory,
    ScreenStamp? stamp = null)
{
    /// <summary>What the frame shows, when the capture watches for changes (<see cref="ScreenCapture.CaptureOrReuse"/>).</summary>
    public ScreenStamp? Stamp { get; } = stamp;
    public BgraImage Image { get; } = image;
    public int PointerX { get; } = pointerX;
    public int PointerY { get; } = pointerY;
    public CursorImage? Cursor { get; } = cursor;
    public bool SharedMemory { get; } = sharedMemory;
}

internal delegate TResult FrameProcessor<TState, TResult>(CapturedFrame frame, TState state);

/// <summary>
/// Captures the root window. Owns its X connection, so a long encode never blocks other areas, and the
/// frame is processed in place (cursor, annotation, encoding) while the connection's lock is held:
/// the shared-memory segment is reused by the next capture, so nobody else may touch it meanwhile.
/// </summary>
internal sealed unsafe class ScreenCapture(XDisplayConnection connection, bool allowSharedMemory, int timeoutMs, ILogger log)
    : IDisposable
{
    private const string ShmKey = "capture.shm";
    private const string WatchKey = "capture.watch";
    private CursorImage? _lastCursor;
    private bool _shmRefusalLogged;

    public XDisplayConnection Connection => connection;

    public TResult Capture<TState, TResult>(bool withCursor, TState state, FrameProcessor<TState, TResult> process) =>
        connection.Run(s => CaptureOn(s, withCursor, state, process, null), timeoutMs);

    /// <summary>
    /// Like <see cref="Capture"/>, but first asks <paramref name="reuse"/> whether a result made from a
    /// frame with the current <see cref="ScreenStamp"/> can be given again; only when it answers null
    /// (or no stamp can be had: no DAMAGE) is the screen read and <paramref name="process"/> run, with
    /// the frame's stamp in <see cref="CapturedFrame.Stamp"/>.
    /// </summary>
    public TResult CaptureOrReuse<TState, TResult>(bool withCursor, TState state, Func<ScreenStamp, TState, TResult?> reuse,
        FrameProcessor<TState, TResult> process) where TResult : class =>
        connection.Run(s =>
        {
            var watch = s.GetOrAttach(WatchKey, ScreenWatch.Create);
            var stamp = watch.Stamp(out var px, out var py);
            // Watched: the size follows the root's ConfigureNotify; otherwise one GetGeometry round trip.
            var (width, height) = stamp is { } known ? (known.Width, known.Height) : s.RefreshScreenSize();
            if (stamp is { } st && reuse(st, state) is { } reused) return reused;
            watch.Rearm();
            return CaptureOn(s, withCursor, state, process, (stamp, px, py, width, height, watch));
        }, timeoutMs);

    public (int X, int Y) Pointer() => connection.Run(static s => s.QueryPointer(), timeoutMs);

    public (int Width, int Height) ScreenSize() => connection.Run(static s => s.RefreshScreenSize(), timeoutMs);

    private TResult CaptureOn<TState, TResult>(XSession s, bool withCursor, TState state, FrameProcessor<TState, TResult> process,
        (ScreenStamp? Stamp, int X, int Y, int Width, int Height, ScreenWatch Watch)? watched)
    {
        var (width, height) = watched is { } known ? (known.Width, known.Height) : s.RefreshScreenSize();
        if (width <= 0 || height <= 0) throw new DisplayUnavailableException("the X screen reports no size");

        XImage* image = null;
        var shared = false;
        if (allowSharedMemory && s.HasSharedMemory)
        {
            var shm = s.GetOrAttach(ShmKey, x => ShmImage.TryCreate(x, width, height, out var why) ?? (IDisposable)new ShmRefused(why));
            if (shm is ShmImage img && (img.Width != width || img.Height != height))
            {
                s.Detach(ShmKey);   // the screen was resized: a new segment of the new size
                shm = s.GetOrAttach(ShmKey, x => ShmImage.TryCreate(x, width, height, out var why) ?? (IDisposable)new ShmRefused(why));
            }
            if (shm is ShmImage ready && ready.Grab())
            {
                image = ready.Image;
                shared = true;
            }
            else if (shm is ShmRefused refused)
            {
                s.Detach(ShmKey);
                s.HasSharedMemory = false;
                if (!_shmRefusalLogged)
                {
                    log.LogWarning("MIT-SHM unusable ({Why}); capturing with XGetImage", refused.Why);
                    _shmRefusalLogged = true;
                }
            }
        }

        XImage* owned = null;
        if (image == null)
        {
            owned = image = Xlib.XGetImage(s.Handle, s.Root, 0, 0, (uint)width, (uint)height, Xlib.AllPlanes, Xlib.ZPixmap);
            if (image == null)
            {
                var e = s.SyncAndTakeError();
                if (s.Broken) throw new DisplayUnavailableException("X display lost during capture");
                throw new DisplayUnavailableException($"XGetImage failed{(e is { } err ? ": " + err.Text : "")}");
            }
        }

        byte[]? converted = null;
        try
        {
            // A watched capture draws the pointer its stamp recorded, so a reused result never shows another.
            var (px, py) = watched is { } wp ? (wp.X, wp.Y) : s.QueryPointer();
            var cursor = withCursor && s.HasXFixes ? ReadCursor(s, watched?.Watch) : null;
            BgraImage view;
            if (PixelLayout.IsBgrx(image))
            {
                view = new BgraImage(new Span<byte>(image->Data, image->BytesPerLine * image->Height),
                    image->Width, image->Height, image->BytesPerLine);
            }
            else
            {
                converted = ArrayPool<byte>.Shared.Rent(image->Width * image->Height * 4);
                view = PixelLayout.ConvertToBgrx(image, converted);
            }
            return process(new CapturedFrame(view, px, py, cursor, shared, watched?.Stamp), state);
        }
        finally
        {
            if (converted is not null) ArrayPool<byte>.Shared.Return(converted);
            if (owned != null) Xlib.DestroyImage(owned);
        }
    }

    /// <summary>
    /// The cursor image. A watched capture skips the round trip when no CursorNotify arrived since the last read
    /// (the image is then the one the stamp's moment showed, as the pointer position is).
    /// </summary>
    private CursorImage? ReadCursor(XSession s, ScreenWatch? watch)
    {
        if (watch is { CursorMayHaveChanged: false } && _lastCursor is { } known) return known;
        var c = XFixes.XFixesGetCursorImage(s.Handle);
        if (c == null) return null;
        // A change the server made before this reply is still in the event queue: the next stamp drains it.
        watch?.CursorRead();
        try
        {
            if (_lastCursor is { } last && last.Serial == c->CursorSerial && last.Width == c->Width && last.Height == c->Height)
                return last;
            var n = c->Width * c->Height;
            var pixels = new uint[n];
            // XFixes hands out 32-bit ARGB values widened to C longs; the upper half is zero.
            for (var i = 0; i < n; i++) pixels[i] = (uint)c->Pixels[i];
            return _lastCursor = new CursorImage(pixels, c->Width, c->Height, c->XHot, c->YHot, c->CursorSerial);
        }
        finally
        {
            Xlib.XFree(c);
        }
    }

    public void Dispose() => connection.Dispose();

    /// <summary>Remembers, for one session, that the server refused MIT-SHM.</summary>
    private sealed class ShmRefused(string? why) : IDisposable
    {
        public string? Why { get; } = why;
        public void Dispose() { }
    }
}

/// <summary>Pixel layouts of XImages and the conversion of unusual ones into BGRX.</summary>
internal static unsafe class PixelLayout
{
    public static bool IsBgrx(XImage* i) =>
        i->BitsPerPixel == 32 && i->ByteOrder == Xlib.LSBFirst &&
        i->RedMask == 0xff0000 && i->GreenMask == 0xff00 && i->BlueMask == 0xff;

    /// <summary>Converts 16/24/32-bit TrueColor images of any channel masks and byte order.</summary>
    public static BgraImage ConvertToBgrx(XImage* i, byte[] target)
    {
        int w = i->Width, h = i->Height, bpp = i->BitsPerPixel / 8;
        if (bpp is not (2 or 3 or 4))
            throw new DisplayUnavailableException($"unsupported X pixel format: {i->BitsPerPixel} bits per pixel");
        var r = Channel.From(i->RedMask);
        var g = Channel.From(i->GreenMask);
        var b = Channel.From(i->BlueMask);
        var msb = i->ByteOrder != Xlib.LSBFirst;
        for (var y = 0; y < h; y++)
        {
            var src = i->Data + (long)y * i->BytesPerLine;
            var dst = target.AsSpan(y * w * 4, w * 4);
            for (var x = 0; x < w; x++, src += bpp)
            {
                uint v = 0;
                for (var k = 0; k < bpp; k++)
                    v |= (uint)src[msb ? k : bpp - 1 - k] << (8 * (bpp - 1 - k));
                dst[x * 4] = b.Extract(v);
                dst[x * 4 + 1] = g.Extract(v);
                dst[x * 4 + 2] = r.Extract(v);
                dst[x * 4 + 3] = 255;
            }
        }
        return new BgraImage(target.AsSpan(0, w * h * 4), w, h, w * 4);
    }

    private readonly record struct Channel(int Shift, int Bits, uint Mask)
    {
        public static Channel From(nuint mask)
        {
            var m = (uint)mask;
            return m == 0 ? new Channel(0, 8, 0) : new Channel(BitOperations.TrailingZeroCount(m), BitOperations.PopCount(m), m);
        }

        public byte Extract(uint v)
        {
            if (Mask == 0) return 0;
            var c = (v & Mask) >> Shift;
            // Scale an n-bit channel to 8 bits by replicating its high bits.
            return Bits >= 8 ? (byte)(c >> (Bits - 8)) : (byte)((c << (8 - Bits)) | (c >> (2 * Bits - 8 > 0 ? 2 * Bits - 8 : 0)));
        }
    }
}
