using System.Globalization;
using Microsoft.Extensions.Logging;
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
/// An encode buffer shared by the service (which keeps the last encode for reuse) and the answers being sent
/// from it, counted: the service refills it only while nobody else holds it, otherwise it starts a new one
/// and the last holder gives the old one back (docs/performance.md, "Memory").
/// </summary>
internal sealed class EncodeBuffer : IDisposable
{
    private int _holders = 1;   // the service's own reference

    public NativeBufferStream Content { get; } = new();

    /// <summary>Someone besides the service holds it (read under the capture lock, where holders are added).</summary>
    public bool Shared => Volatile.Read(ref _holders) > 1;

    public EncodeBuffer Hold()
    {
        Interlocked.Increment(ref _holders);
        return this;
    }

    /// <summary>Drops one reference; the last one frees the buffer's native memory.</summary>
    public void Dispose()
    {
        if (Interlocked.Decrement(ref _holders) == 0) Content.Dispose();
    }
}

/// <summary>An encoded screenshot held for sending: <see cref="Bytes"/> stays valid until disposed.</summary>
internal sealed class ScreenshotLease(ScreenshotInfo info, EncodeBuffer? buffer) : IDisposable
{
    private EncodeBuffer? _buffer = buffer;
    public ScreenshotInfo Info { get; } = info;
    public NativeBufferStream Bytes => (_buffer ?? throw new ObjectDisposedException(nameof(ScreenshotLease))).Content;
    public void Dispose() => Interlocked.Exchange(ref _buffer, null)?.Dispose();
}

/// <summary>
/// Capture → cursor → annotation → crop → scale → encode, all on the captured buffer (no full-frame
/// copy unless a downscale is asked for), written to a stream while the capture is held.
/// </summary>
internal sealed class ScreenshotService(ScreenCapture capture, ApplianceOptions options, CaptureOptions encoding, ILogger<ScreenshotService> log)
{
    private readonly PngEncoderOptions _png = new() { CompressionLevel = options.PngCompressionLevel, Threads = encoding.PngThreads, Filter = encoding.PngFilter };
    private readonly int _reuseMax = encoding.ReuseMaxBytes;
    private EncodeBuffer _encoded = new(); // the last encode, kept for reuse (refilled when nobody else holds it)
    private Encoded? _last;
    private long _reused;
    private TurboJpegEncoder? _turbo;
    private bool _turboTried;
    private long _counter;
    private int _sinceLastPrune;
    private long _bytesSinceLastPrune;
    private readonly Lock _pruneLock = new();

    public ScreenCapture Capture => capture;

    /// <summary>Renders into <paramref name="output"/> (memory or file).</summary>
    /// <remarks>
    /// The last encode is kept with the <see cref="ScreenStamp"/> of its frame: a request with the same
    /// parameters (the response kind aside) while no damage, cursor change or pointer motion has been
    /// reported since gets the same bytes without a capture or an encode. Everything runs under the
    /// capture connection's lock, so the kept buffer has one user at a time.
    /// </remarks>
    public ScreenshotInfo Render(ScreenshotRequest request, Stream output) => RenderCore(request, output).Info;

    /// <summary>
    /// Renders and holds the encoded bytes for the caller to send after the capture lock is released, without
    /// a copy: the answer is the service's own encode buffer (kept for reuse), which the next encode leaves
    /// alone until the lease is disposed.
    /// </summary>
    public ScreenshotLease RenderLease(ScreenshotRequest request) => RenderCore(request, null);

    /// <summary>Renders and answers the bytes as base64 (JSON answers), converted from the kept encode after the capture lock is released.</summary>
    public (ScreenshotInfo Info, string Base64) RenderBase64(ScreenshotRequest request)
    {
        using var lease = RenderLease(request);
        return (lease.Info, lease.Bytes.ToBase64());
    }

    private ScreenshotLease RenderCore(ScreenshotRequest request, Stream? output)
    {
        var key = request with { Response = ScreenshotResponse.Json };
        return capture.CaptureOrReuse(request.Cursor, (this, key, output),
            static (stamp, st) =>
            {
                var (self, key, output) = st;
                if (self._last is not { } last || last.Stamp != stamp || last.Key != key) return null;
                Interlocked.Increment(ref self._reused);
                return self.Answer(last.Info, output);
            },
            static (frame, st) =>
            {
                var (self, key, output) = st;
                self._last = null;
                if (self._encoded.Shared)
                {
                    // Still being sent: leave it to its holders and encode into a new buffer.
                    self._encoded.Dispose();
                    self._encoded = new EncodeBuffer();
                }
                var encoded = self._encoded.Content;
                encoded.Reset();
                var info = RenderFrame(frame, key, encoded, self);
                var answer = self.Answer(info, output);
                if (frame.Stamp is { } stamp && encoded.Length <= self._reuseMax)
                {
                    self._last = new Encoded(stamp, key, info);
                }
                else if (encoded.Length > self._reuseMax)
                {
                    // Too big to keep: do not hold the buffer either (an answer holding it frees it when sent).
                    self._encoded.Dispose();
                    self._encoded = new EncodeBuffer();
                }
                return answer;
            });
    }

    /// <summary>Under the capture lock: the kept bytes written to <paramref name="output"/>, or held for the caller.</summary>
    private ScreenshotLease Answer(ScreenshotInfo info, Stream? output)
    {
        if (output is null) return new ScreenshotLease(info, _encoded.Hold());
        _encoded.Content.WriteContentTo(output);
        output.Flush();
        return new ScreenshotLease(info, null);
    }

    /// <summary>How many renders were answered with the kept bytes (for tests and /health-style figures).</summary>
    public long ReusedCount => Interlocked.Read(ref _reused);

    private static ScreenshotInfo RenderFrame(CapturedFrame frame, ScreenshotRequest req, NativeBufferStream stream, ScreenshotService self)
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
            using (var file = CreateTemporary(dir, tmp))
            {
                info = Render(request, file);
            }
            File.Move(tmp, path, overwrite: true);
        }
        catch (IOException e) when (IoErrors.IsDiskFull(e))
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

        // Pruned every 50 files or every tenth of the byte budget, whichever comes first.
        var written = Interlocked.Add(ref _bytesSinceLastPrune, info.Bytes);
        if ((options.ScreenshotRetention > 0 || options.SharedMaxBytes > 0)
            && (Interlocked.Increment(ref _sinceLastPrune) >= 50 || (options.SharedMaxBytes > 0 && written >= options.SharedMaxBytes / 10)))
        {
            Interlocked.Exchange(ref _sinceLastPrune, 0);
            Interlocked.Exchange(ref _bytesSinceLastPrune, 0);
            _ = Task.Run(() => Prune(dir, options.ScreenshotRetention, options.SharedMaxBytes));
        }
        return (info, "screenshots/" + name);
    }

    /// <summary>
    /// The .tmp file a screenshot is written to. <c>CreateNew</c>: an O_EXCL create of a fresh name, with no
    /// truncate (on ext4 a truncated-then-rewritten file is flushed to disk on close, ~20–100 µs per screenshot);
    /// unbuffered, as the encode arrives in 64 KiB segments. The directory is made only when missing.
    /// </summary>
    private static FileStream CreateTemporary(string dir, string tmp)
    {
        try
        {
            return PrivateFiles.Create(tmp, FileMode.CreateNew, bufferSize: 0);
        }
        catch (IOException) when (!Directory.Exists(dir))
        {
            PrivateFiles.CreateDirectory(dir);
        }
        catch (IOException) when (File.Exists(tmp))
        {
            File.Delete(tmp);   // left by a crash under the same name: it was never a finished screenshot
        }
        return PrivateFiles.Create(tmp, FileMode.CreateNew, bufferSize: 0);
    }

    /// <summary>
    /// Keeps at most <paramref name="keep"/> screenshots (0 = any number) and, when <paramref name="maxBytes"/> is
    /// set, deletes the oldest screenshots until everything under SHARED_DIR (recordings and logs included) fits.
    /// Names sort by time, so the oldest go first.
    /// </summary>
    private void Prune(string dir, int keep, long maxBytes)
    {
        lock (_pruneLock)
        try
        {
            var files = new DirectoryInfo(dir).GetFiles("screenshot-*").OrderByDescending(f => f.Name, StringComparer.Ordinal).ToList();
            if (keep > 0)
            {
                foreach (var f in files.Skip(keep)) f.Delete();
                if (files.Count > keep) files.RemoveRange(keep, files.Count - keep);
            }
            if (maxBytes <= 0) return;
            var total = new DirectoryInfo(options.SharedDir).EnumerateFiles("*", new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true })
                .Sum(f => f.Length);
            for (var i = files.Count - 1; i >= 0 && total > maxBytes; i--)
            {
                total -= files[i].Length;
                files[i].Delete();
            }
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
            _turbo = encoding.UseTurboJpeg ? TurboJpegEncoder.TryCreate() : null;
            if (_turbo is null && encoding.UseTurboJpeg)
                log.LogInformation("JPEG screenshots through StbImageWriteSharp: {Why}", TurboJpegEncoder.UnavailableReason);
        }
        if (_turbo is { } turbo) output.Write(turbo.EncodeLikeStb(image, req.Quality));
        else JpegEncoder.Encode(image, output, req.Quality);
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }
}
