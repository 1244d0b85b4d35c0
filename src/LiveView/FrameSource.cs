using System.Diagnostics;
using System.IO.Hashing;
using Microsoft.Extensions.Logging;
using Sandbox.Capture;
using Sandbox.Display;
using Sandbox.Imaging;

namespace Sandbox.LiveView;

/// <summary>
/// The one producer behind every viewer: reads the screen (with the cursor) on its own X connection
/// when it changed, and encodes and publishes a JPEG, at most <see cref="LiveViewOptions.Fps"/> a second.
/// <para>
/// Change detection has two stages. The X server's DAMAGE extension (with XFixes cursor events and a
/// pointer query) says when to read at all: every <see cref="PollMs"/> ms the already-arrived events
/// are looked at, so a still screen costs no capture and a change is read within a poll, not a whole
/// frame interval. Then a 64-bit XxHash3 per row of the captured buffer (about 1 ms for 1920×1080),
/// compared with the previous read, drops reads that changed nothing visible. Without DAMAGE the screen
/// is read on every tick and the hashes alone decide. The cursor is composited before hashing.
/// </para>
/// <para>
/// Threading: one dedicated thread runs the loop and owns the hashes and the encoder; it parks while
/// nobody watches (<see cref="SetDemand"/>). Publishing hands the shared frame to a callback that must
/// not block (each viewer keeps only the latest frame), so a slow viewer never slows the producer, and
/// the producer's own connection means it never delays screenshots or actions.
/// </para>
/// </summary>
internal sealed class FrameSource : IDisposable
{
    private const int RetryAfterFailureMs = 1000;
    /// <summary>How often pending DAMAGE events and the pointer are looked at between frames.</summary>
    private const int PollMs = 10;
    private const string WatchKey = "liveview.watch";
    private readonly ScreenCapture _capture;
    private readonly LiveViewOptions _options;
    private readonly ILogger _log;
    private readonly Action<StreamFrame> _publish;
    private readonly Action<string?> _displayProblem;
    private readonly ManualResetEventSlim _wake = new(false);
    private readonly ManualResetEvent _stop = new(false);
    private readonly int _displayTimeoutMs;
    private (int X, int Y) _lastPointer = (-1, -1);
    private readonly Thread _thread;
    private readonly TurboJpegEncoder? _turbo;
    private ulong[] _rowHashes = [];
    private int _hashedWidth;
    private volatile bool _demand;
    private volatile bool _disposed;
    private bool _forceNext = true;
    private long _sequence;
    private string? _lastProblem;

    public FrameSource(ScreenCapture capture, LiveViewOptions options, int displayTimeoutMs, ILogger log,
        Action<StreamFrame> publish, Action<string?> displayProblem)
    {
        _displayTimeoutMs = displayTimeoutMs;
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
        var pollTicks = Stopwatch.Frequency * PollMs / 1000;
        long nextAllowed = 0;
        while (!_disposed)
        {
            if (!_demand)
            {
                Latest = null;
                _forceNext = true;
                _wake.Reset();
                if (!_demand) _wake.Wait();
                continue;
            }

            // At most Fps reads per second: wait out the rest of the frame interval first.
            var now = Stopwatch.GetTimestamp();
            if (now < nextAllowed)
            {
                Sleep(nextAllowed - now);
                continue;
            }

            try
            {
                var mode = _capture.Connection.Run(Decide, _displayTimeoutMs);
                if (mode == Step.Idle)
                {
                    Sleep(pollTicks);
                    continue;
                }
                Tick();
                nextAllowed = now + period;
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
                nextAllowed = Stopwatch.GetTimestamp() + Stopwatch.Frequency * RetryAfterFailureMs / 1000;
            }
            catch (Exception e)
            {
                _log.LogError(e, "live view: frame failed");
                _forceNext = true;
                nextAllowed = Stopwatch.GetTimestamp() + Stopwatch.Frequency * RetryAfterFailureMs / 1000;
            }
        }
    }

    private enum Step { Idle, Read }

    /// <summary>
    /// With DAMAGE: read the screen only when the server reported drawing, the cursor changed or the
    /// pointer moved (the damage is cleared first, so drawing during the read is reported again).
    /// Without it: read on every tick and let the row hashes decide.
    /// </summary>
    private Step Decide(XSession s)
    {
        var watch = s.GetOrAttach(WatchKey, static x => (IDisposable?)ChangeWatch.TryCreate(x) ?? new NoWatch());
        if (watch is not ChangeWatch w) return Step.Read;
        var r = w.Poll();
        var moved = (r.PointerX, r.PointerY) != _lastPointer;
        _lastPointer = (r.PointerX, r.PointerY);
        if (!r.Damaged && !r.CursorChanged && !moved && !_forceNext) return Step.Idle;
        w.Rearm();
        return Step.Read;
    }

    private void Sleep(long stopwatchTicks)
    {
        var ms = (int)Math.Clamp(stopwatchTicks * 1000 / Stopwatch.Frequency, 1, 1000);
        // Woken early by Dispose; demand changes are seen on the next pass.
        _stop.WaitOne(ms);
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
        _lastPointer = (captured.PointerX, captured.PointerY);
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
        _stop.Set();
        _wake.Set();
        // The loop finishes its tick (bounded by the display timeout) before the encoder goes away.
        _thread.Join(5000);
        _turbo?.Dispose();
        _capture.Dispose();
        _wake.Dispose();
        _stop.Dispose();
    }

    /// <summary>Remembers, for one X session, that it offers no DAMAGE.</summary>
    private sealed class NoWatch : IDisposable
    {
        public void Dispose() { }
    }
}
