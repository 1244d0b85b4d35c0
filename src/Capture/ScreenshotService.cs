using System.Globalization;
using Microsoft.Extensions.Logging;
using Sandbox.Api;
using Sandbox.Hosting;
using Sandbox.Imaging;
using Sandbox.Common;

namespace Sandbox.Capture;

/// <summary>What a screenshot showed and how it was transformed, for the JSON answer.</summary>
internal sealed record ScreenshotInfo(
    int[] MousePosition,
    int[] ScreenSize,
    int[] ImageSize,
    double[] Scale,
    int[]? Region,
    string Format,
    long Bytes);

/// <summary>The bytes in the service's encode buffer: what they show and what they answered.</summary>
internal sealed record Encoded(ScreenStamp Stamp, ScreenshotRequest Key, ScreenshotInfo Info);

/// <summary>
/// Capture → cursor → annotation → crop → scale → encode, all on the captured buffer (no full-frame
/// copy unless a downscale is asked for), written to a stream while the capture is held.
/// </summary>
internal sealed class ScreenshotService(ScreenCapture capture, SandboxOptions options, ILogger<ScreenshotService> log)
{
    private readonly PngEncoderOptions _png = new() { CompressionLevel = options.PngCompressionLevel, Threads = options.Capture.PngThreads };
    private readonly int _reuseMax = options.Capture.ReuseMaxBytes;
    private MemoryStream _encoded = new();
    private Encoded? _last;
    private long _reused;
    private TurboJpegEncoder? _turbo;
    private bool _turboTried;
    private long _counter;
    private int _sinceLastPrune;

    public ScreenCapture Capture => capture;

    /// <summary>Renders into <paramref name="output"/> (memory or file).</summary>
    /// <remarks>
    /// The last encode is kept with the <see cref="ScreenStamp"/> of its frame: a request with the same
    /// parameters (the response kind aside) while no damage, cursor change or pointer motion has been
    /// reported since gets the same bytes without a capture or an encode. Everything runs under the
    /// capture connection's lock, so the kept buffer has one user at a time.
    /// </remarks>
    public ScreenshotInfo Render(ScreenshotRequest request, Stream output)
    {
        var key = request with { Response = ScreenshotResponse.Json };
        var info = capture.CaptureOrReuse(request.Cursor, (this, key, output),
            static (stamp, st) =>
            {
                var (self, key, output) = st;
                if (self._last is not { } last || last.Stamp != stamp || last.Key != key) return null;
                output.Write(self._encoded.GetBuffer(), 0, (int)self._encoded.Length);
                output.Flush();
                Interlocked.Increment(ref self._reused);
                return last.Info;
            },
            static (frame, st) =>
            {
                var (self, key, output) = st;
                self._last = null;
                var encoded = self._encoded;
                encoded.SetLength(0);
                var info = RenderFrame(frame, key, encoded, self);
                output.Write(encoded.GetBuffer(), 0, (int)encoded.Length);
                output.Flush();
                if (frame.Stamp is { } stamp && encoded.Length <= self._reuseMax)
                {
                    self._last = new Encoded(stamp, key, info);
                }
                else if (encoded.Capacity > self._reuseMax)
                {
                    // Too big to keep: do not hold the buffer either.
                    self._encoded = new MemoryStream();
                }
                return info;
            });
        return info;
    }

    /// <summary>How many renders were answered with the kept bytes (for tests and /health-style figures).</summary>
    public long ReusedCount => Interlocked.Read(ref _reused);

    private static ScreenshotInfo RenderFrame(CapturedFrame frame, ScreenshotRequest req, MemoryStream stream, ScreenshotService self)
    {
        var full = frame.Image;
        if (req.Cursor && frame.Cursor is { } c)
            CursorOverlay.Composite(full, c.Pixels, c.Width, c.Height, frame.PointerX - c.XHot, frame.PointerY - c.YHot);
        if (req.Annotate)
            Annotation.Draw(full, frame.PointerX, frame.PointerY);

        var view = full;
        if (req.Region is { } r)
        {
            if (r.X + r.Width > full.Width || r.Y + r.Height > full.Height)
                throw SandboxException.BadRequest(
                    $"region {r.X},{r.Y},{r.Width},{r.Height} exceeds the {full.Width}x{full.Height} screen");
            view = full.Crop(r.X, r.Y, r.Width, r.Height);
        }

        var (w, h) = Resampler.FitWithin(view.Width, view.Height, req.MaxWidth ?? int.MaxValue, req.MaxHeight ?? int.MaxValue);
        if (w != view.Width || h != view.Height)
        {
            using var scaled = Resampler.Resize(view, w, h);
            self.Encode(scaled.Image, req, stream);
        }
        else
        {
            self.Encode(view, req, stream);
        }

        return new ScreenshotInfo(
            [frame.PointerX, frame.PointerY],
            [full.Width, full.Height],
            [w, h],
            [(double)w / view.Width, (double)h / view.Height],
            req.Region is { } rg ? [rg.X, rg.Y, rg.Width, rg.Height] : null,
            req.Format == ImageFormat.Png ? "png" : "jpeg",
            stream.Length);
    }

    /// <summary>
    /// Writes the screenshot under SHARED_DIR/screenshots and returns its path relative to SHARED_DIR.
    /// The file appears under its final name only once complete (written as .tmp, then renamed).
    /// </summary>
    public (ScreenshotInfo Info, string RelativePath) Save(ScreenshotRequest request)
    {
        var dir = options.ScreenshotDir;
        var ext = request.Format == ImageFormat.Png ? "png" : "jpg";
        var name = string.Create(CultureInfo.InvariantCulture,
            $"screenshot-{DateTime.UtcNow:yyyyMMdd-HHmmss-fff}-{Interlocked.Increment(ref _counter):D6}.{ext}");
        var path = Path.Combine(dir, name);
        var tmp = path + ".tmp";
        ScreenshotInfo info;
        try
        {
            Directory.CreateDirectory(dir);
            using (var file = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
                info = Render(request, file);
            File.Move(tmp, path, overwrite: true);
        }
        catch (IOException e) when (IsDiskFull(e))
        {
            TryDelete(tmp);
            throw SandboxException.StorageFull($"cannot write the screenshot to {dir}: the disk is full");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(tmp);
            throw SandboxException.Unavailable($"cannot write the screenshot to {dir}: {e.Message}");
        }
        catch
        {
            TryDelete(tmp);
            throw;
        }

        if (options.ScreenshotRetention > 0 && Interlocked.Increment(ref _sinceLastPrune) >= 50)
        {
            Interlocked.Exchange(ref _sinceLastPrune, 0);
            _ = Task.Run(() => Prune(dir, options.ScreenshotRetention));
        }
        return (info, "screenshots/" + name);
    }

    private void Prune(string dir, int keep)
    {
        try
        {
            var files = new DirectoryInfo(dir).GetFiles("screenshot-*");
            if (files.Length <= keep) return;
            foreach (var f in files.OrderByDescending(f => f.Name, StringComparer.Ordinal).Skip(keep))
                f.Delete();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            log.LogWarning("pruning old screenshots in {Dir} failed: {Message}", dir, e.Message);
        }
    }

    private void Encode(BgraImage image, ScreenshotRequest req, Stream output)
    {
        if (req.Format == ImageFormat.Png)
        {
            PngEncoder.Encode(image, output, _png);
            return;
        }
        // libjpeg-turbo when present (SIMD, straight from BGRX), StbImageWriteSharp otherwise; one
        // quality scale and stb's subsampling rule either way. Called under the capture lock only.
        if (!_turboTried)
        {
            _turboTried = true;
            _turbo = options.Capture.UseTurboJpeg ? TurboJpegEncoder.TryCreate() : null;
            if (_turbo is null && options.Capture.UseTurboJpeg)
                log.LogInformation("JPEG screenshots through StbImageWriteSharp: {Why}", TurboJpegEncoder.UnavailableReason);
        }
        if (_turbo is { } turbo) output.Write(turbo.EncodeLikeStb(image, req.Quality));
        else JpegEncoder.Encode(image, output, req.Quality);
    }

    internal static bool IsDiskFull(IOException e) =>
        (e.HResult & 0xFFFF) == 28 /* ENOSPC */ || (e.HResult & 0xFFFF) == 122 /* EDQUOT */ ||
        e.Message.Contains("No space left", StringComparison.OrdinalIgnoreCase);

    private static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }
}
