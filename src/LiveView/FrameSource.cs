using System.Diagnostics;
using System.IO.Hashing;
using Microsoft.Extensions.Logging;
using Sandbox.Capture;
using Sandbox.Display;
using Sandbox.Imaging;

namespace Sandbox.LiveView;

/// <summary>
/// The one producer behind every viewer: reads the screen (with the cursor) at the configured rate on
/// its own X connection, and encodes and publishes a JPEG only when something changed.
/// <para>
/// Change detection is a 64-bit XxHash3 per row of the captured buffer (about 1 ms for 1920×1080),
/// compared with the previous capture's; the cursor is composited before hashing, so pointer moves
/// count. Threading: one dedicated thread runs the loop and owns the hashes and the encoder; it parks
/// while nobody watches (<see cref="SetDemand"/>). Publishing hands the shared frame to a callback
/// that must not block (each viewer keeps only the latest frame), so a slow viewer never slows the
/// producer, and the producer's own connection means it never delays screenshots or actions.
/// </para>
/// </summary>
internal sealed class FrameSource : IDisposable
{
    private const int RetryAfterFailureMs = 1000;
    private readonly ScreenCapture _capture;
    private readonly LiveViewOptions _options;
    private readonly ILogger _log;
    private readonly Action<StreamFrame> _publish;
    private readonly Action<string?> _displayProblem;
    private readonly ManualResetEventSlim _wake = new(false);
    private readonly Thread _thread;
    private readonly TurboJpegEncoder? _turbo;
    private ulong[] _rowHashes = [];
    private int _hashedWidth;
    private volatile bool _demand;
    private volatile bool _disposed;
    private bool _forceNext = true;
    private long _sequence;
    private string? _lastProblem;

    public FrameSource(ScreenCapture capture, LiveViewOptions options, ILogger log, Action<StreamFrame> publish, Action<string?> displayProblem)
    {
        _capture = capture;
        _options = options;
        _log = log;
        _publish = publish;
        _displayProblem = displayProblem;
        _turbo = TurboJpegEncoder.TryCreate();
        if (_turbo is null)
            log.LogWarning("live view: {Reason}; encoding frames with the slower managed JPEG encoder", TurboJpegEncoder.UnavailableReason);
        _thread = new Thread(Run) { IsBackground = true, Name = "liveview-frames" };
        _thread.Start();
    }

    public string Encoder => _turbo is null ? "stb" : "libjpeg-turbo";

    /// <summary>Screen reads so far, and how many of them found a change and were encoded.</summary>
    public long Checks => Interlocked.Read(ref _checks);
    public long Encoded => Interlocked.Read(ref _encoded);
    private long _checks, _encoded;

    /// <summary>The last published frame, which a new viewer starts with; null while idle.</summary>
    public StreamFrame? Latest { get; private set; }

    /// <summary>Starts (true) or parks (false) the loop. A restart always publishes a fresh first frame.</summary>
    public void SetDemand(bool wanted)
    {
        if (wanted == _demand) return;
        _demand = wanted;
        if (wanted) _wake.Set();
    }

    private void Run()
    {
        var period = Stopwatch.Frequency / _options.Fps;
        var next = Stopwatch.GetTimestamp();
        while (!_disposed)
        {
            if (!_demand)
            {
                Latest = null;
                _forceNext = true;
                _wake.Reset();
                if (!_demand) _wake.Wait();
                next = Stopwatch.GetTimestamp();
                continue;
            }

            var delayMs = 0;
            try
            {
                Tick();
                if (_lastProblem is not null)
                {
                    _lastProblem = null;
                    _displayProblem(null);
                }
            }
            catch (DisplayUnavailableException e)
            {
                if (_lastProblem != e.Message)
                {
                    _lastProblem = e.Message;
                    _log.LogWarning("live view: {Message}", e.Message);
                    _displayProblem(e.Message);
                }
                _forceNext = true;
                delayMs = RetryAfterFailureMs;
            }
            catch (Exception e)
            {
                _log.LogError(e, "live view: frame failed");
                _forceNext = true;
                delayMs = RetryAfterFailureMs;
            }

            // Fixed cadence; a tick that overran starts the next one at once instead of piling up.
            next = Math.Max(next + period, Stopwatch.GetTimestamp() - period);
            var sleep = delayMs > 0 ? delayMs : (int)((next - Stopwatch.GetTimestamp()) * 1000 / Stopwatch.Frequency);
            if (sleep > 0) Thread.Sleep(sleep);
        }
    }

    private void Tick()
    {
        Interlocked.Increment(ref _checks);
        var frame = _capture.Capture(withCursor: true, this, static (captured, self) => self.Process(captured));
        if (frame is null) return;
        Interlocked.Increment(ref _encoded);
        Latest = frame;
        _publish(frame);
    }

    /// <summary>Runs under the capture's lock: composite, compare, and encode only if the screen changed.</summary>
    private StreamFrame? Process(CapturedFrame captured)
    {
        var capturedAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var image = captured.Image;
        if (captured.Cursor is { } c)
            CursorOverlay.Composite(image, c.Pixels, c.Width, c.Height, captured.PointerX - c.XHot, captured.PointerY - c.YHot);

        if (!Changed(image) && !_forceNext) return null;
        _forceNext = false;

        var started = Stopwatch.GetTimestamp();
        var (w, h) = Resampler.FitWithin(image.Width, image.Height, _options.MaxWidth, _options.MaxHeight);
        byte[] jpeg;
        if (w != image.Width || h != image.Height)
        {
            using var scaled = Resampler.Resize(image, w, h);
            jpeg = Encode(scaled.Image);
        }
        else
        {
            jpeg = Encode(image);
        }
        return new StreamFrame(++_sequence, jpeg, w, h, image.Width, image.Height, captured.PointerX, captured.PointerY,
            capturedAt, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }

    /// <summary>Hashes every row, keeps the hashes for the next capture, and tells whether any row differs.</summary>
    private bool Changed(BgraImage image)
    {
        var changed = false;
        if (_rowHashes.Length != image.Height || _hashedWidth != image.Width)
        {
            _rowHashes = new ulong[image.Height];
            _hashedWidth = image.Width;
            changed = true;
        }
        for (var y = 0; y < image.Height; y++)
        {
            var h = XxHash3.HashToUInt64(image.Row(y));
            if (h != _rowHashes[y])
            {
                _rowHashes[y] = h;
                changed = true;
            }
        }
        return changed;
    }

    private byte[] Encode(BgraImage image)
    {
        if (_turbo is not null) return _turbo.Encode(image, _options.Quality).ToArray();
        using var output = new MemoryStream();
        JpegEncoder.Encode(image, output, _options.Quality);
        return output.ToArray();
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _wake.Set();
        // The loop finishes its tick (bounded by the display timeout) before the encoder goes away.
        _thread.Join(5000);
        _turbo?.Dispose();
        _capture.Dispose();
        _wake.Dispose();
    }
}
