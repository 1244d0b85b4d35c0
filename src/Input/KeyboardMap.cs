using System.Diagnostics;
using Sandbox.Native;

namespace Sandbox.Input;

/// <summary>A key to press for one keysym: its keycode, and whether Shift must be held (level 2).</summary>
internal readonly record struct KeyStroke(byte Keycode, bool Shift, nuint Keysym);

/// <summary>No keycode can be freed for a character the layout lacks (the keyboard has no unused keycodes).</summary>
internal sealed class KeymapFullException(string message) : Exception(message);

/// <summary>
/// Our copy of the server's core keyboard mapping, and the spare keycodes (those with no keysyms) we
/// bind to characters the layout cannot type.
/// <para>
/// Typing through a spare keycode: bind it to the character's keysym (both levels, so neither Shift
/// nor Caps Lock changes it), press and release it. Every change is a MappingNotify to every client,
/// which then re-reads the mapping when it next looks a key up, possibly after further changes; so a
/// bound keycode is never rebound within <see cref="InputOptions.RemapSettleMs"/> of its last use, the
/// bindings one request needs are made together before its first key event, and they are undone only
/// after <see cref="InputOptions.KeymapRestoreMs"/> of idleness (or at shutdown), not at once.
/// </para>
/// Not thread-safe: used under the input connection's lock.
/// </summary>
internal sealed unsafe class KeyboardMap
{
    private readonly Dictionary<nuint, KeyStroke> _layout = [];
    private readonly Dictionary<nuint, byte> _boundByKeysym = [];
    private readonly Dictionary<byte, nuint> _boundByCode = [];
    private readonly Dictionary<byte, long> _lastUse = [];
    private readonly List<byte> _spares = [];
    private nuint[] _rows = [];

    public int MinKeycode { get; private set; }
    public int MaxKeycode { get; private set; }
    public int KeysymsPerKeycode { get; private set; }
    public int SpareCount => _spares.Count;
    public bool HasBindings => _boundByCode.Count > 0;
    public long LastBindingUse { get; private set; }

    /// <summary>Reads the mapping from the server and reconciles our bindings with it.</summary>
    public void Load(nint display)
    {
        int min, max, per;
        XKeyboard.XDisplayKeycodes(display, &min, &max);
        var rows = XKeyboard.XGetKeyboardMapping(display, (uint)min, max - min + 1, &per);
        if (rows == null) throw new InvalidOperationException("XGetKeyboardMapping returned nothing");
        try
        {
            MinKeycode = min;
            MaxKeycode = max;
            KeysymsPerKeycode = per;
            _rows = new ReadOnlySpan<nuint>(rows, (max - min + 1) * per).ToArray();
        }
        finally
        {
            Xlib.XFree(rows);
        }

        // A binding survives only if the server still shows exactly it (setxkbmap replaces everything).
        foreach (var (code, keysym) in _boundByCode.ToArray())
            if (!RowIsBinding(code, keysym)) Forget(code);

        _layout.Clear();
        _spares.Clear();
        for (var code = max; code >= min; code--)
        {
            var c = (byte)code;
            if (_boundByCode.ContainsKey(c)) { _spares.Add(c); continue; }
            var row = Row(c);
            if (row.IndexOfAnyExcept(XKeyboard.NoSymbol) < 0) { _spares.Add(c); continue; }
            // Group 1, levels 1 and 2 (columns 0 and 1): what the key types alone and with Shift.
            // Lower keycodes win, as XKeysymToKeycode does, so the main block beats the keypad.
            for (var level = 1; level >= 0; level--)
            {
                if (level >= row.Length || row[level] == XKeyboard.NoSymbol) continue;
                if (level == 1 && _layout.TryGetValue(row[1], out var existing) && !existing.Shift && existing.Keycode < c) continue;
                _layout[row[level]] = new KeyStroke(c, level == 1, row[level]);
            }
        }
        // Keep level-1 entries over level-2 ones for the same keysym: pressing without Shift is safer.
        for (var code = min; code <= max; code++)
        {
            var c = (byte)code;
            if (_boundByCode.ContainsKey(c)) continue;
            var row = Row(c);
            if (row.Length > 0 && row[0] != XKeyboard.NoSymbol && _layout.TryGetValue(row[0], out var e) && e.Shift)
                _layout[row[0]] = new KeyStroke(c, false, row[0]);
        }
    }

    /// <summary>Where the layout has this keysym in group 1 (levels 1–2), if anywhere.</summary>
    public KeyStroke? InLayout(nuint keysym) => _layout.TryGetValue(keysym, out var s) ? s : null;

    /// <summary>The spare keycode bound to this keysym, if one is.</summary>
    public KeyStroke? Bound(nuint keysym) =>
        _boundByKeysym.TryGetValue(keysym, out var c) ? new KeyStroke(c, false, keysym) : null;

    /// <summary>Records that a bound keycode's key was just pressed (for the settle rule).</summary>
    public void Used(byte keycode)
    {
        if (!_boundByCode.ContainsKey(keycode)) return;
        var now = Stopwatch.GetTimestamp();
        _lastUse[keycode] = now;
        LastBindingUse = now;
    }

    /// <summary>
    /// Binds every keysym of <paramref name="keysyms"/> that is not bound yet, using free spares first,
    /// then the least recently used bindings outside the set. Returns how long to wait before the
    /// bindings may be written (a reused keycode must settle), and the plan to apply after that wait.
    /// Throws <see cref="KeymapFullException"/> when the set is larger than the spares.
    /// </summary>
    public (TimeSpan Wait, List<(byte Code, nuint Keysym)> Changes) PlanBindings(IReadOnlyCollection<nuint> keysyms, TimeSpan settle)
    {
        var changes = new List<(byte, nuint)>();
        var missing = keysyms.Where(k => !_boundByKeysym.ContainsKey(k)).Distinct().ToList();
        if (missing.Count == 0) return (TimeSpan.Zero, changes);
        if (keysyms.Count > _spares.Count)
            throw new KeymapFullException($"{keysyms.Count} characters need spare keycodes at once but the keyboard has {_spares.Count}");

        var free = new Queue<byte>(_spares.Where(c => !_boundByCode.ContainsKey(c)));
        var wanted = new HashSet<nuint>(keysyms);
        var reusable = new Queue<byte>(_boundByCode
            .Where(b => !wanted.Contains(b.Value))
            .OrderBy(b => _lastUse.GetValueOrDefault(b.Key))
            .Select(b => b.Key));
        var wait = TimeSpan.Zero;
        foreach (var keysym in missing)
        {
            byte code;
            if (free.Count > 0)
            {
                code = free.Dequeue();
            }
            else
            {
                code = reusable.Dequeue();
                var since = Stopwatch.GetElapsedTime(_lastUse.GetValueOrDefault(code));
                if (since < settle && settle - since > wait) wait = settle - since;
            }
            changes.Add((code, keysym));
        }
        return (wait, changes);
    }

    /// <summary>Writes planned bindings to the server, one request per run of consecutive keycodes.</summary>
    public void Apply(nint display, List<(byte Code, nuint Keysym)> changes)
    {
        if (changes.Count == 0) return;
        foreach (var (code, keysym) in changes)
        {
            Forget(code);
            _boundByCode[code] = keysym;
            _boundByKeysym[keysym] = code;
            var row = Row(code);
            row.Clear();
            row[0] = keysym;
            if (row.Length > 1) row[1] = keysym;
        }
        WriteRuns(display, changes.Select(c => c.Code));
    }

    /// <summary>Unbinds every spare keycode (restoring it to no keysyms) and returns how many there were.</summary>
    public int RestoreAll(nint display)
    {
        if (_boundByCode.Count == 0) return 0;
        var codes = _boundByCode.Keys.ToList();
        foreach (var code in codes)
        {
            Forget(code);
            Row(code).Clear();
        }
        WriteRuns(display, codes);
        return codes.Count;
    }

    private void WriteRuns(nint display, IEnumerable<byte> codes)
    {
        // Only the changed keycodes are written: rewriting a layout key, even with its own keysyms,
        // makes XKB recompute its type and actions from the core symbols.
        var sorted = codes.Distinct().Order().ToArray();
        var per = Math.Max(2, KeysymsPerKeycode);
        for (var i = 0; i < sorted.Length;)
        {
            var j = i;
            while (j + 1 < sorted.Length && sorted[j + 1] == sorted[j] + 1) j++;
            var count = j - i + 1;
            var buffer = new nuint[count * per];
            for (var k = 0; k < count; k++) Row(sorted[i + k]).CopyTo(buffer.AsSpan(k * per, per));
            fixed (nuint* p = buffer) XKeyboard.XChangeKeyboardMapping(display, sorted[i], per, p, count);
            i = j + 1;
        }
    }

    private void Forget(byte code)
    {
        if (_boundByCode.Remove(code, out var keysym)) _boundByKeysym.Remove(keysym);
        _lastUse.Remove(code);
    }

    private bool RowIsBinding(byte code, nuint keysym)
    {
        if (code < MinKeycode || code > MaxKeycode) return false;
        // XKB reports a one-group key with its group copied into the group-2 columns, so any column
        // may repeat the keysym; anything else in the row means someone else changed the key.
        var row = Row(code);
        if (row.Length == 0 || row[0] != keysym) return false;
        foreach (var k in row)
            if (k != keysym && k != XKeyboard.NoSymbol) return false;
        return true;
    }

    private Span<nuint> Row(byte code) => _rows.AsSpan((code - MinKeycode) * KeysymsPerKeycode, KeysymsPerKeycode);
}
