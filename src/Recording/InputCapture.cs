using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Extensions.Logging;
using Sandbox.Display;
using Sandbox.Native;

namespace Sandbox.Recording;

/// <summary>Where captured events go; called on the capture thread only.</summary>
internal interface IInputSink
{
    void Accept(List<InputEvent> events);
    void Note(JournalNote note);
}

/// <summary>The server cannot record: no RECORD extension, or it refused our context.</summary>
internal sealed class RecordingUnavailableException(string message) : Exception(message);

internal enum CaptureState { Idle, Starting, Live, Lost, Stopping }

/// <summary>
/// Every key, button and motion event of the X server, through RECORD, on a thread of its own.
/// <para>
/// Two connections, as RECORD requires: the control connection creates, disables and frees the context
/// (and resolves keys), the data connection only receives. The data connection is driven with
/// XRecordEnableContextAsync + poll(2) + XRecordProcessReplies rather than the blocking
/// XRecordEnableContext, because the thread then stays in charge: it sleeps in poll with no timeout while
/// the user is idle (no CPU), wakes on an eventfd to stop, writes each batch to the journal right after it
/// arrives, flushes a throttled motion on time, and notices a dead server as a hang-up on the socket. A
/// blocking enable could only be ended by the server, which a dead or wedged server never does.
/// </para>
/// <para>
/// Stopping disables the context on the control connection and keeps reading until the server's
/// EndOfData, so every event the server handled before the stop request is delivered. When the server
/// goes away the sink gets a <c>display_lost</c> note and the thread retries every reconnect interval; a
/// new server gets a new context and a <c>display_restored</c> note.
/// </para>
/// </summary>
internal sealed unsafe class InputCapture : IDisposable
{
    private const string KeyboardAttachment = "recording.keyboard";

    private readonly XDisplayConnection _control, _data;
    private readonly RecordingOptions _options;
    private readonly int _timeoutMs;
    private readonly ILogger _log;
    private readonly GCHandle _self;
    private readonly EventConverter _events;
    private readonly EventFd _bell = new();
    private readonly ManualResetEventSlim _started = new(), _finished = new();

    private Thread? _thread;
    private IInputSink? _sink;
    private RecordingClock? _clock;
    private volatile bool _stopRequested;
    private bool _live, _ended, _everLive, _lostNoted;
    private Exception? _startFailure;
    private int _xkbOpcode = -1;

    public InputCapture(string? displayName, RecordingOptions options, int timeoutMs, ILogger log)
    {
        _control = new XDisplayConnection(displayName, "recording-control", log);
        _data = new XDisplayConnection(displayName, "recording-data", log);
        _options = options;
        _timeoutMs = timeoutMs;
        _log = log;
        _events = new EventConverter(options);
        _self = GCHandle.Alloc(this);
    }

    public CaptureState State { get; private set; }
    public string? LastError { get; private set; }
    public XDisplayConnection Control => _control;

    /// <summary>Starts capturing into <paramref name="sink"/>; returns once the server is recording, or throws.</summary>
    public void Start(IInputSink sink, RecordingClock clock)
    {
        if (_thread is not null) throw new InvalidOperationException("the capture is already running");
        _sink = sink;
        _clock = clock;
        _stopRequested = false;
        _live = _ended = _everLive = _lostNoted = false;
        _startFailure = null;
        _events.Reset(clock);
        _started.Reset();
        _finished.Reset();
        _bell.Drain();
        State = CaptureState.Starting;
        LastError = null;
        _thread = new Thread(Run) { IsBackground = true, Name = "xrecord" };
        _thread.Start();
        if (!_started.Wait(_timeoutMs * 2 + 1000))
        {
            Stop();
            throw new DisplayUnavailableException($"the X server did not start recording within {_timeoutMs * 2 + 1000} ms");
        }
        if (_startFailure is { } failure)
        {
            _thread.Join(_timeoutMs);
            _thread = null;
            State = CaptureState.Idle;
            throw failure;
        }
    }

    /// <summary>Stops and waits until every event up to now was delivered (or the stop timeout passed).</summary>
    public bool Stop()
    {
        if (_thread is null) return true;
        State = CaptureState.Stopping;
        _stopRequested = true;
        _bell.Ring();
        var clean = _finished.Wait(_options.StopTimeoutMs + _timeoutMs);
        if (clean) _thread.Join();
        else _log.LogWarning("recording: the capture thread did not finish in time; events after this point are dropped");
        _thread = null;
        State = CaptureState.Idle;
        return clean;
    }

    private void Run()
    {
        try
        {
            while (!_stopRequested)
            {
                try
                {
                    var context = _control.Run(CreateContext, _timeoutMs);
                    try
                    {
                        // The context lives on the server it was made on: after a loss, the loop above makes a new one.
                        _data.Run(s => Pump(s, context), _timeoutMs, retryOnDeadConnection: false);
                    }
                    finally
                    {
                        TryFreeContext(context);
                    }
                    if (_stopRequested) break;
                    throw new DisplayUnavailableException("the X server ended the recording");
                }
                catch (Exception e) when (e is DisplayUnavailableException or RecordingUnavailableException)
                {
                    if (!_everLive)
                    {
                        _startFailure = e;
                        _started.Set();
                        return;
                    }
                    Lost(e.Message);
                    WaitForBell(_options.ReconnectIntervalMs);
                }
            }
            _events.FlushMotion();
            Deliver();
        }
        catch (Exception e)
        {
            // Our own bug: report it instead of taking the process down; what was journaled stays.
            _log.LogError(e, "recording: the capture thread failed");
            LastError = $"{e.GetType().Name}: {e.Message}";
            if (!_everLive)
            {
                _startFailure = e;
                _started.Set();
            }
        }
        finally
        {
            _finished.Set();
        }
    }

    private void Lost(string message)
    {
        State = CaptureState.Lost;
        LastError = message;
        _live = false;
        if (_lostNoted) return;
        _lostNoted = true;
        _events.FlushMotion();
        Deliver();
        var t = _clock!.Now;
        _sink!.Note(new JournalNote { Event = JournalNote.DisplayLost, Time = Math.Round(t, 6), Timestamp = _clock.Stamp(t), Message = message });
        _log.LogWarning("recording: {Message}; retrying every {Interval} ms", message, _options.ReconnectIntervalMs);
    }

    private nuint CreateContext(XSession s)
    {
        int major = 1, minor = 13;
        if (XTest.XRecordQueryVersion(s.Handle, &major, &minor) == 0)
            throw new RecordingUnavailableException($"the X server {_control.DisplayName} has no RECORD extension (input recording needs it)");
        int opcode, firstEvent, firstError;
        fixed (byte* name = "XKEYBOARD\0"u8)
            _xkbOpcode = Xlib.XQueryExtension(s.Handle, name, &opcode, &firstEvent, &firstError) != 0 ? opcode : -1;

        // Device events KeyPress..MotionNotify, and the requests that change what keycodes mean.
        var count = _xkbOpcode > 0 ? 4 : 2;
        var ranges = stackalloc XRecordRange*[4];
        for (var i = 0; i < count; i++)
        {
            ranges[i] = XTest.XRecordAllocRange();
            if (ranges[i] == null) throw new InvalidOperationException("XRecordAllocRange failed");
        }
        ranges[0]->DeviceEventsFirst = RecordWire.KeyPress;
        ranges[0]->DeviceEventsLast = RecordWire.MotionNotify;
        ranges[0]->CoreRequestsFirst = ranges[0]->CoreRequestsLast = RecordWire.ChangeKeyboardMapping;
        ranges[1]->CoreRequestsFirst = ranges[1]->CoreRequestsLast = RecordWire.SetModifierMapping;
        if (_xkbOpcode > 0)
        {
            ranges[2]->ExtRequestsMajorFirst = ranges[2]->ExtRequestsMajorLast = (byte)_xkbOpcode;
            ranges[2]->ExtRequestsMinorFirst = ranges[2]->ExtRequestsMinorLast = RecordWire.XkbSetMap;
            ranges[3]->ExtRequestsMajorFirst = ranges[3]->ExtRequestsMajorLast = (byte)_xkbOpcode;
            ranges[3]->ExtRequestsMinorFirst = ranges[3]->ExtRequestsMinorLast = RecordWire.XkbGetKbdByName;
        }
        var clients = XTest.XRecordAllClients;
        var context = XTest.XRecordCreateContext(s.Handle, 0, &clients, 1, ranges, count);
        for (var i = 0; i < count; i++) Xlib.XFree(ranges[i]);
        var error = s.SyncAndTakeError();
        if (error is not null || context == 0)
            throw new RecordingUnavailableException("the X server refused the recording context" +
                (error is { } e ? $": {e.Text}" : ""));
        // A fresh keymap copy for this server: the previous one may describe a server that is gone.
        s.Detach(KeyboardAttachment);
        return context;
    }

    private void TryFreeContext(nuint context)
    {
        try
        {
            _control.Run(s =>
            {
                XTest.XRecordFreeContext(s.Handle, context);
                Xlib.XSync(s.Handle, 0);
                return 0;
            }, _timeoutMs, retryOnDeadConnection: false);   // the context died with its server
        }
        catch (DisplayUnavailableException) { }
    }

    /// <summary>The data connection's loop, from enable to the server's EndOfData.</summary>
    private int Pump(XSession s, nuint context)
    {
        _ended = false;
        if (XTest.XRecordEnableContextAsync(s.Handle, context, &OnIntercept, GCHandle.ToIntPtr(_self)) == 0)
            throw new RecordingUnavailableException("XRecordEnableContextAsync failed");
        Xlib.XFlush(s.Handle);
        var fd = Xlib.XConnectionNumber(s.Handle);
        var fds = stackalloc PollFd[2];
        long drainDeadline = 0;
        var disabled = false;
        var hangup = false;

        while (true)
        {
            // Process first, poll after: libX11/XCB may already have read replies into its buffer
            // (the enable's flush does), and those never make the socket readable again.
            XTest.XRecordProcessReplies(s.Handle);
            if (s.Broken) throw new DisplayUnavailableException($"lost the X display {_data.DisplayName}");
            AfterRead();
            if (_ended) break;
            if (disabled && Environment.TickCount64 >= drainDeadline)
            {
                _log.LogWarning("recording: no end of data from the X server within {Timeout} ms", _options.StopTimeoutMs);
                break;
            }
            if (_stopRequested && !disabled)
            {
                disabled = true;
                drainDeadline = Environment.TickCount64 + _options.StopTimeoutMs;
                Disable(context);
                continue;
            }
            fds[0] = new PollFd { Fd = fd, Events = Libc.POLLIN };
            fds[1] = new PollFd { Fd = _bell.Fd, Events = Libc.POLLIN };
            var timeout = _events.PollTimeout(disabled ? (int)Math.Max(0, drainDeadline - Environment.TickCount64) : NudgeTimeout());
            var n = Libc.poll(fds, disabled ? 1u : 2u, timeout);
            if (n == 0 && !disabled) Nudge();
            if (n < 0 && Libc.LastError() is var errno and not Errno.EINTR)
                throw new NativeCallException("poll", errno);
            if (!disabled && (fds[1].Revents & Libc.POLLIN) != 0) _bell.Drain();
            // A hang-up is normally turned into an IO error by the next read; twice in a row means it was not.
            var failed = n > 0 && (fds[0].Revents & (Libc.POLLERR | Libc.POLLNVAL | Libc.POLLHUP)) != 0;
            if (failed && hangup) throw new DisplayUnavailableException($"lost the X display {_data.DisplayName}");
            hangup = failed;
        }
        return 0;
    }

    /// <summary>Bookkeeping after each read: the first StartOfData releases Start; a new one after a loss is a restore.</summary>
    private void AfterRead()
    {
        if (_live && !_everLive)
        {
            _everLive = true;
            State = CaptureState.Live;
            _started.Set();
        }
        else if (_live && _lostNoted)
        {
            _lostNoted = false;
            _clock!.Reanchor();
            State = CaptureState.Live;
            LastError = null;
            var t = _clock.Now;
            _sink!.Note(new JournalNote { Event = JournalNote.DisplayRestored, Time = Math.Round(t, 6), Timestamp = _clock.Stamp(t) });
            _log.LogInformation("recording: the X display is back; recording continues");
        }
        if (_events.MotionDue) _events.FlushMotion();
        Deliver();
    }

    private void Disable(nuint context)
    {
        try
        {
            _control.Run(c =>
            {
                XTest.XRecordDisableContext(c.Handle, context);
                Xlib.XSync(c.Handle, 0);
                return 0;
            }, _timeoutMs, retryOnDeadConnection: false);
        }
        catch (DisplayUnavailableException)
        {
            _ended = true;   // no server, no more data
        }
    }

    /// <summary>
    /// The X server keeps recorded device events in a 1 KiB buffer per context and writes it to us when
    /// the buffer is full or when it flushes output to some client. On a desktop the focused application's
    /// events cause that flush at once; with nobody else receiving input (a bare Xvfb, a key pressed over
    /// the root window) up to 31 events would wait there, late and lost with us if we were killed. A round
    /// trip on the control connection every flush interval while input is quiet makes the server flush,
    /// bounding both. Zero disables it (idle then costs no wake-ups at all).
    /// </summary>
    private int NudgeTimeout() => _options.FlushIntervalMs > 0 ? _options.FlushIntervalMs : -1;

    private void Nudge()
    {
        try
        {
            // Discarding: the control connection selects no events, but MappingNotify reaches every client.
            _control.Run(static c => Xlib.XSync(c.Handle, 1), _timeoutMs);
        }
        catch (DisplayUnavailableException)
        {
            // The data connection notices the same loss on its own.
        }
    }

    private void WaitForBell(int timeoutMs)
    {
        var fds = stackalloc PollFd[1];
        fds[0] = new PollFd { Fd = _bell.Fd, Events = Libc.POLLIN };
        Libc.poll(fds, 1, timeoutMs);
        _bell.Drain();
    }

    [UnmanagedCallersOnly]
    private static void OnIntercept(nint closure, XRecordInterceptData* data)
    {
        try
        {
            if (GCHandle.FromIntPtr(closure).Target is InputCapture capture) capture.Intercept(data);
        }
        catch (Exception)
        {
            // Nothing may unwind into libX11. A datum we could not parse is dropped.
        }
        finally
        {
            XTest.XRecordFreeData(data);
        }
    }

    private void Intercept(XRecordInterceptData* d)
    {
        switch (d->Category)
        {
            case XTest.XRecordStartOfData:
                _live = true;
                return;
            case XTest.XRecordEndOfData:
                _ended = true;
                return;
            case XTest.XRecordFromServer:
                if (d->Data == null) return;
                if (RecordWire.TryReadDeviceEvent(new ReadOnlySpan<byte>(d->Data, (int)d->DataLength * 4), out var e))
                    _events.AddDevice(e, _clock!.Now);
                return;
            case XTest.XRecordFromClient:
                if (d->Data == null || d->DataLength < 1) return;
                switch (RecordWire.ReadRequest(new ReadOnlySpan<byte>(d->Data, (int)d->DataLength * 4), d->ClientSwapped != 0, _xkbOpcode, out var change))
                {
                    case RecordWire.RequestMeaning.CoreKeymap:
                        _events.AddKeymap(change!);
                        break;
                    case RecordWire.RequestMeaning.Reload:
                        _events.AddReload();
                        break;
                }
                return;
        }
    }

    /// <summary>Resolves what the last read delivered, in order, and hands it to the sink.</summary>
    private void Deliver()
    {
        if (_events.IsEmpty) return;
        var converted = false;
        if (_events.NeedsKeyboard)
        {
            try
            {
                _control.Run(s =>
                {
                    var keyboard = s.GetOrAttach(KeyboardAttachment, KeyResolver.Create);
                    _events.Convert(keyboard);
                    converted = true;
                    return 0;
                }, _timeoutMs);
            }
            catch (DisplayUnavailableException)
            {
                // Keys are still journaled, with keycode and state only.
            }
        }
        if (!converted) _events.Convert(null);
        _events.Finish(_sink!);
    }

    public void Dispose()
    {
        Stop();
        _control.Dispose();
        _data.Dispose();
        _bell.Dispose();
        if (_self.IsAllocated) _self.Free();
    }
}
