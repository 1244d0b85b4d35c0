using System.Runtime.InteropServices;
using static Sandbox.Recording.RecordWire;

namespace Sandbox.Recording;

/// <summary>
/// Turns what one read of the recording delivered (device events and keymap changes, in order) into
/// <see cref="InputEvent"/>s: keys resolved against the keymap as it was at that point, motion throttled
/// to one event per <see cref="RecordingOptions.MotionIntervalMs"/> (the newest position wins and is
/// written when due or before the next other event), sequence numbers and timestamps. Used on the
/// capture thread only.
/// </summary>
internal sealed class EventConverter(RecordingOptions options)
{
    private readonly RecordingOptions _options = options;
    private readonly List<RawDatum> _raw = [];
    private readonly List<InputEvent> _out = [];
    private RecordingClock? _clock;
    private long _seq;
    private InputEvent? _pendingMotion;
    private double _lastMotionTime = double.NegativeInfinity;

    private enum RawKind : byte { Device, CoreKeymap, Reload }

    [StructLayout(LayoutKind.Auto)]
    private struct RawDatum
    {
        public RawKind Kind;
        public DeviceEvent Device;
        public double ReceivedAt;
        public KeymapChange? Keymap;
    }

    /// <summary>A new recording: sequence numbers start again at 1, no motion is pending.</summary>
    public void Reset(RecordingClock clock)
    {
        _clock = clock;
        _seq = 0;
        _pendingMotion = null;
        _lastMotionTime = double.NegativeInfinity;
    }

    public void AddDevice(in DeviceEvent e, double receivedAt) =>
        _raw.Add(new RawDatum { Kind = RawKind.Device, Device = e, ReceivedAt = receivedAt });

    public void AddKeymap(KeymapChange change) => _raw.Add(new RawDatum { Kind = RawKind.CoreKeymap, Keymap = change });

    public void AddReload() => _raw.Add(new RawDatum { Kind = RawKind.Reload });

    /// <summary>Nothing was read and nothing waits to be handed on.</summary>
    public bool IsEmpty => _raw.Count == 0 && _out.Count == 0;

    /// <summary>Something read needs the keymap: a key event or a keymap change.</summary>
    public bool NeedsKeyboard
    {
        get
        {
            foreach (var r in _raw)
                if (r.Kind != RawKind.Device || r.Device.Type is KeyPress or KeyRelease) return true;
            return false;
        }
    }

    /// <summary>A throttled motion waits and its time has come.</summary>
    public bool MotionDue => _pendingMotion is not null && _clock!.Now >= _lastMotionTime + _options.MotionIntervalMs / 1000.0;

    /// <summary>Infinite while idle; until the throttled motion is due when one waits.</summary>
    public int PollTimeout(int other)
    {
        if (_pendingMotion is null) return other;
        var due = (int)Math.Ceiling((_lastMotionTime + _options.MotionIntervalMs / 1000.0 - _clock!.Now) * 1000);
        due = Math.Max(0, due);
        return other < 0 ? due : Math.Min(due, other);
    }

    /// <summary>Forgets what was read and hands what was converted to <paramref name="sink"/>.</summary>
    public void Finish(IInputSink sink)
    {
        _raw.Clear();
        if (_out.Count == 0) return;
        sink.Accept(_out);
        _out.Clear();
    }

    public void Convert(KeyResolver? keyboard)
    {
        foreach (ref readonly var r in CollectionsMarshal.AsSpan(_raw))
        {
            switch (r.Kind)
            {
                case RawKind.CoreKeymap:
                    keyboard?.ApplyCoreChange(r.Keymap!.FirstKeycode, r.Keymap.Count, r.Keymap.PerKeycode, r.Keymap.Keysyms);
                    continue;
                case RawKind.Reload:
                    keyboard?.Reload();
                    continue;
            }
            var d = r.Device;
            var time = _clock!.FromServer(d.ServerTime, r.ReceivedAt);
            var e = new InputEvent
            {
                Event = d.Type switch
                {
                    KeyPress => InputKind.KeyPress,
                    KeyRelease => InputKind.KeyRelease,
                    ButtonPress => InputKind.ButtonPress,
                    ButtonRelease => InputKind.ButtonRelease,
                    _ => InputKind.Motion,
                },
                Time = time,
                ServerTime = d.ServerTime,
                X = d.X,
                Y = d.Y,
            };
            if (d.Type == MotionNotify)
            {
                if (_options.MotionIntervalMs > 0 && time < _lastMotionTime + _options.MotionIntervalMs / 1000.0)
                {
                    _pendingMotion = e;   // the newest position wins; it is written when due or before the next event
                    continue;
                }
                _pendingMotion = null;
                _lastMotionTime = time;
                Emit(e);
                continue;
            }
            FlushMotion();
            e.State = d.State;
            if (d.Type is ButtonPress or ButtonRelease)
            {
                e.Button = d.Detail;
                if (keyboard is not null) e.Modifiers = keyboard.Modifiers(d.State);
            }
            else
            {
                e.Keycode = d.Detail;
                if (keyboard is not null)
                {
                    var k = keyboard.Resolve(d.Detail, d.State);
                    e.Keysym = k.Keysym;
                    e.Symbol = k.Symbol;
                    e.Key = k.Key;
                    e.Base = k.Base;
                    e.Text = k.Text;
                    e.Modifiers = k.Modifiers;
                }
            }
            Emit(e);
        }
    }

    public void FlushMotion()
    {
        if (_pendingMotion is not { } m) return;
        _pendingMotion = null;
        _lastMotionTime = m.Time;
        Emit(m);
    }

    private void Emit(InputEvent e)
    {
        e.Seq = Interlocked.Increment(ref _seq);
        e.Timestamp = _clock!.Stamp(e.Time);
        _out.Add(e);
    }
}
