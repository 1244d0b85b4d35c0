using System.Diagnostics;
using Sandbox.Native;

namespace Sandbox.Input;

/// <summary>A key to press for one keysym: its keycode, and whether Shift must be held (level 2).</summary>
internal readonly record struct KeyStroke(byte Keycode, bool Shift, nuint Keysym);

/// <summary>More characters at once than the spare keycodes can hold.</summary>
internal sealed class KeymapFullException(string message) : Exception(message);

/// <summary>
/// Our copy of the server's core keyboard mapping, and the spare keycodes (those with no keysyms) we
/// bind to characters the layout cannot type.
/// <para>
/// A spare keycode holds two characters: one typed alone (level 1) and one with Shift (level 2);
/// the same keysym in both columns when it holds one, so Shift cannot change it. (Caps Lock is turned
/// off around typing, since Xlib upper-cases under Lock whatever the key.)
/// </para>
/// <para>
/// Every change is a MappingNotify to every client, which re-reads the mapping when it next looks a key
/// up, possibly after further changes. So a slot is never rebound within
/// <see cref="InputOptions.RemapSettleMs"/> of its last use, the bindings a stretch of text needs are
/// made together before its first key event, and they are undone only after
/// <see cref="InputOptions.KeymapRestoreMs"/> of idleness (or at shutdown). Filling the free slot of a
/// keycode whose other slot is in use is safe: the used slot reads the same before and after.
/// </para>
/// Not thread-safe: used under the input connection's lock.
/// </summary>
internal sealed unsafe class KeyboardMap
{
    private readonly Dictionary<nuint, KeyStroke> _layout = [];
    private readonly Dictionary<nuint, Slot> _boundByKeysym = [];
    private readonly Dictionary<Slot, nuint> _boundBySlot = [];
    private readonly Dictionary<Slot, long> _lastUse = [];
    private readonly List<byte> _spares = [];
    private nuint[] _rows = [];

    private readonly record struct Slot(byte Code, bool Shift);

    public int MinKeycode { get; private set; }
    public int MaxKeycode { get; private set; }
    public int KeysymsPerKeycode { get; private set; }
    public int SpareCount => _spares.Count;

    /// <summary>How many characters can be bound at once: two per spare keycode.</summary>
    public int SlotCount => 2 * _spares.Count;

    /// <summary>Reads the mapping from the server and reconciles our bindings with it.</summary>
    public void Load(nint display)
    {
        int min, max, per;
        Xlib.XDisplayKeycodes(display, &min, &max);
        var rows = Xlib.XGetKeyboardMapping(display, (byte)min, max - min + 1, &per);
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
        foreach (var code in _boundBySlot.Keys.Select(s => s.Code).Distinct().ToArray())
            if (!RowIsOurs(code)) Forget(code);

        _layout.Clear();
        _spares.Clear();
        var ours = _boundBySlot.Keys.Select(s => s.Code).ToHashSet();
        for (var code = max; code >= min; code--)
        {
            var c = (byte)code;
            if (ours.Contains(c) || Row(c).IndexOfAnyExcept(Xlib.NoSymbol) < 0) _spares.Add(c);
        }
        // Group 1, levels 1 and 2 (columns 0 and 1): what a key types alone and with Shift. A keysym on
        // several keys takes the lowest keycode, as XKeysymToKeycode does, and level 1 over level 2.
        for (var level = 1; level >= 0; level--)
        {
            for (var code = max; code >= min; code--)
            {
                var c = (byte)code;
                if (ours.Contains(c)) continue;
                var row = Row(c);
                if (level < row.Length && row[level] != Xlib.NoSymbol)
                    _layout[row[level]] = new KeyStroke(c, level == 1, row[level]);
            }
        }
    }

    /// <summary>Where the layout has this keysym in group 1 (levels 1–2), if anywhere.</summary>
    public KeyStroke? InLayout(nuint keysym) => _layout.TryGetValue(keysym, out var s) ? s : null;

    /// <summary>The spare keycode (and level) bound to this keysym, if one is.</summary>
    public KeyStroke? Bound(nuint keysym) =>
        _boundByKeysym.TryGetValue(keysym, out var slot) ? new KeyStroke(slot.Code, slot.Shift, keysym) : null;

    /// <summary>Records that a bound keysym was just typed (for the settle rule).</summary>
    public void Used(nuint keysym)
    {
        if (_boundByKeysym.TryGetValue(keysym, out var slot)) _lastUse[slot] = Stopwatch.GetTimestamp();
    }

    /// <summary>
    /// Plans bindings for every keysym of <paramref name="keysyms"/> not bound yet: free slots first,
    /// then the least recently used bindings outside the set. Returns how long to wait before writing
    /// (a reused slot must settle) and the changes to write after that wait.
    /// Throws <see cref="KeymapFullException"/> when the set is larger than <see cref="SlotCount"/>.
    /// </summary>
    public (TimeSpan Wait, List<(byte Code, bool Shift, nuint Keysym)> Changes) PlanBindings(
        IReadOnlyCollection<nuint> keysyms, TimeSpan settle)
    {
        var changes = new List<(byte, bool, nuint)>();
        var missing = keysyms.Where(k => !_boundByKeysym.ContainsKey(k)).Distinct().ToList();
        if (missing.Count == 0) return (TimeSpan.Zero, changes);
        if (keysyms.Count > SlotCount)
            throw new KeymapFullException(
                $"{keysyms.Count} characters need spare keycodes at once, but the keyboard's {_spares.Count} unused keycodes hold {SlotCount}");

        // Free slots, keycodes with a free slot first, so that bindings pack into few keycodes.
        var free = new Queue<Slot>(_spares
            .SelectMany(c => new[] { new Slot(c, false), new Slot(c, true) })
            .Where(s => !_boundBySlot.ContainsKey(s))
            .OrderBy(s => _boundBySlot.ContainsKey(s with { Shift = !s.Shift }) ? 0 : 1));
        var wanted = new HashSet<nuint>(keysyms);
        var reusable = new Queue<Slot>(_boundBySlot
            .Where(b => !wanted.Contains(b.Value))
            .OrderBy(b => _lastUse.GetValueOrDefault(b.Key))
            .Select(b => b.Key));
        var wait = TimeSpan.Zero;
        foreach (var keysym in missing)
        {
            Slot slot;
            if (free.Count > 0)
            {
                slot = free.Dequeue();
            }
            else
            {
                slot = reusable.Dequeue();
                var since = Stopwatch.GetElapsedTime(_lastUse.GetValueOrDefault(slot));
                if (since < settle && settle - since > wait) wait = settle - since;
            }
            changes.Add((slot.Code, slot.Shift, keysym));
        }
        return (wait, changes);
    }

    /// <summary>Writes planned bindings to the server, one request per run of consecutive keycodes.</summary>
    public void Apply(nint display, List<(byte Code, bool Shift, nuint Keysym)> changes)
    {
        if (changes.Count == 0) return;
        foreach (var (code, shift, keysym) in changes)
        {
            var slot = new Slot(code, shift);
            if (_boundBySlot.Remove(slot, out var old)) _boundByKeysym.Remove(old);
            _lastUse.Remove(slot);
            _boundBySlot[slot] = keysym;
            _boundByKeysym[keysym] = slot;
        }
        var codes = changes.Select(c => c.Code).Distinct().ToArray();
        foreach (var code in codes) WriteRowFromSlots(code);
        WriteRuns(display, codes);
    }

    /// <summary>Unbinds every spare keycode (restoring it to no keysyms) and returns how many there were.</summary>
    public int RestoreAll(nint display)
    {
        if (_boundBySlot.Count == 0) return 0;
        var codes = _boundBySlot.Keys.Select(s => s.Code).Distinct().ToList();
        foreach (var code in codes)
        {
            Forget(code);
            Row(code).Clear();
        }
        WriteRuns(display, codes);
        return codes.Count;
    }

    private void WriteRowFromSlots(byte code)
    {
        var plain = _boundBySlot.GetValueOrDefault(new Slot(code, false));
        var shifted = _boundBySlot.GetValueOrDefault(new Slot(code, true));
        // One keysym goes in both columns, so that Shift (held by the agent, say) cannot change it.
        if (plain == Xlib.NoSymbol) plain = shifted;
        if (shifted == Xlib.NoSymbol) shifted = plain;
        var row = Row(code);
        row.Clear();
        row[0] = plain;
        if (row.Length > 1) row[1] = shifted;
    }

    private void WriteRuns(nint display, IEnumerable<byte> codes)
    {
        // Only the changed keycodes are written: rewriting a layout key, even with its own keysyms,
        // makes XKB recompute its type and actions from the core symbols.
        var sorted = codes.Distinct().Order().ToArray();
        var per = KeysymsPerKeycode;
        for (var i = 0; i < sorted.Length;)
        {
            var j = i;
            while (j + 1 < sorted.Length && sorted[j + 1] == sorted[j] + 1) j++;
            var count = j - i + 1;
            var buffer = new nuint[count * per];
            for (var k = 0; k < count; k++) Row(sorted[i + k]).CopyTo(buffer.AsSpan(k * per, per));
            fixed (nuint* p = buffer) Xlib.XChangeKeyboardMapping(display, sorted[i], per, p, count);
            i = j + 1;
        }
    }

    private void Forget(byte code)
    {
        foreach (var shift in (ReadOnlySpan<bool>)[false, true])
        {
            var slot = new Slot(code, shift);
            if (_boundBySlot.Remove(slot, out var keysym)) _boundByKeysym.Remove(keysym);
            _lastUse.Remove(slot);
        }
    }

    private bool RowIsOurs(byte code)
    {
        if (code < MinKeycode || code > MaxKeycode) return false;
        var plain = _boundBySlot.GetValueOrDefault(new Slot(code, false));
        var shifted = _boundBySlot.GetValueOrDefault(new Slot(code, true));
        if (plain == Xlib.NoSymbol) plain = shifted;
        if (shifted == Xlib.NoSymbol) shifted = plain;
        // XKB reports a one-group key with its group copied into the group-2 columns; anything else in
        // the row means someone else changed the key.
        var row = Row(code);
        if (row.Length < 2 || row[0] != plain || row[1] != shifted) return false;
        foreach (var k in row)
            if (k != plain && k != shifted && k != Xlib.NoSymbol) return false;
        return true;
    }

    private Span<nuint> Row(byte code) => _rows.AsSpan((code - MinKeycode) * KeysymsPerKeycode, KeysymsPerKeycode);
}
