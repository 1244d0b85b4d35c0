using System.Runtime.InteropServices;
using Sandbox.Display;
using Sandbox.Native;

namespace Sandbox.Recording;

/// <summary>A key event resolved against the keymap in effect when it happened.</summary>
internal readonly record struct ResolvedKey(uint Keysym, string? Symbol, string Key, string Base, string? Text, HeldModifiers Modifiers);

/// <summary>
/// Keycode + state → keysym, names and text, on the recorder's control connection.
/// <para>
/// The XKB keymap is copied once (XkbGetMap) and translated client-side with XkbTranslateKeyCode, which
/// applies the layout group carried in the state (bits 13–14), shift levels, key types, NumLock and Lock.
/// Keymap changes arrive in the recorded stream itself, in order with the key events: core
/// ChangeKeyboardMapping requests (xdotool and pynput borrow a spare keycode this way for characters the
/// layout lacks, then restore it within milliseconds) are applied from the request's own keysyms to an
/// overlay, so a key is resolved with the mapping it had when it was pressed, not the one we could fetch
/// later. XKB keymap replacements (setxkbmap) and modifier-map changes trigger a re-read.
/// </para>
/// Owned by the control connection's session (an attachment), so it goes away with that connection.
/// </summary>
internal sealed unsafe class KeyResolver : IDisposable
{
    private const uint ShiftMask = 1, LockMask = 2, ControlMask = 4;
    private readonly nint _display;
    private readonly Dictionary<byte, uint[]> _overlay = [];
    private readonly Dictionary<uint, string?> _names = [];
    private nint _xkb;
    private uint[][]? _core;        // the whole core map, only when the server has no XKB
    private int _minKeycode, _maxKeycode;
    private uint _altMask = 0x08, _winMask = 0x40, _altGrMask, _numLockMask = 0x10;

    private KeyResolver(nint display)
    {
        _display = display;
        Reload();
    }

    public static KeyResolver Create(XSession session) => new(session.Handle);

    /// <summary>Re-reads the keymap and modifier map from the server (after setxkbmap or a modifier change).</summary>
    public void Reload()
    {
        FreeXkb();
        _overlay.Clear();
        int min, max;
        Xlib.XDisplayKeycodes(_display, &min, &max);
        (_minKeycode, _maxKeycode) = (min, max);
        _xkb = Xlib.XkbGetMap(_display, Xlib.XkbAllMapComponentsMask, Xlib.XkbUseCoreKbd);
        _core = _xkb == 0 ? ReadCoreMap() : null;
        ReadModifierMap();
    }

    /// <summary>Applies a recorded ChangeKeyboardMapping: <paramref name="keysyms"/> holds count × perKeycode entries.</summary>
    public void ApplyCoreChange(byte firstKeycode, int count, int perKeycode, ReadOnlySpan<uint> keysyms)
    {
        for (var i = 0; i < count; i++)
        {
            var row = keysyms.Slice(i * perKeycode, perKeycode).ToArray();
            var keycode = (byte)(firstKeycode + i);
            if (_core is not null) _core[keycode] = row;
            else _overlay[keycode] = row;
        }
    }

    public ResolvedKey Resolve(byte keycode, uint state)
    {
        var keysym = Translate(keycode, state);
        // Level 1 of the same group names the key in combinations: shift+T is "shift+t".
        var baseKeysym = Translate(keycode, state & 0x6000);
        if (baseKeysym == 0) baseKeysym = keysym;
        var text = KeysymText.Text(keysym);
        var symbol = Name(keysym);
        return new ResolvedKey(keysym, symbol, KeyNames.Pynput(keysym, text), KeyNames.Combo(baseKeysym, Name(baseKeysym)),
            text, Modifiers(state));
    }

    public HeldModifiers Modifiers(uint state)
    {
        var m = HeldModifiers.None;
        if ((state & ShiftMask) != 0) m |= HeldModifiers.Shift;
        if ((state & ControlMask) != 0) m |= HeldModifiers.Ctrl;
        if ((state & _altMask) != 0) m |= HeldModifiers.Alt;
        if ((state & _winMask) != 0) m |= HeldModifiers.Win;
        if ((state & _altGrMask) != 0) m |= HeldModifiers.AltGr;
        return m;
    }

    private uint Translate(byte keycode, uint state)
    {
        if (_overlay.TryGetValue(keycode, out var row)) return CoreLookup(row, state);
        if (_core is not null) return keycode < _core.Length && _core[keycode] is { } r ? CoreLookup(r, state) : 0;
        if (_xkb == 0) return 0;
        uint consumed;
        nuint keysym;
        if (Xlib.XkbTranslateKeyCode(_xkb, keycode, state, &consumed, &keysym) == 0) return 0;
        var k = (uint)keysym;
        // Lock that the key type did not use still turns letters upper-case (as XLookupString does).
        if ((state & LockMask) != 0 && (consumed & LockMask) == 0)
        {
            nuint lower, upper;
            Xlib.XConvertCase(k, &lower, &upper);
            k = (uint)upper;
        }
        return k;
    }

    /// <summary>The core protocol's rule: group from the state, then shift/lock pick the column (X11 protocol §5).</summary>
    private uint CoreLookup(uint[] row, uint state)
    {
        var group = (int)((state >> 13) & 3);
        if ((state & _altGrMask) != 0 && group == 0) group = 1;
        var at = group * 2 < row.Length && (row[group * 2] != 0 || group * 2 + 1 < row.Length && row[group * 2 + 1] != 0) ? group * 2 : 0;
        uint first = at < row.Length ? row[at] : 0, second = at + 1 < row.Length ? row[at + 1] : 0;
        nuint lower, upper;
        if (second == 0)
        {
            Xlib.XConvertCase(first, &lower, &upper);
            (first, second) = ((uint)lower, (uint)upper);
        }
        var shift = (state & ShiftMask) != 0;
        if ((state & _numLockMask) != 0 && second is >= 0xff80 and <= 0xffbd) return shift ? first : second;
        if (shift) return second;
        if ((state & LockMask) != 0)
        {
            Xlib.XConvertCase(first, &lower, &upper);
            return (uint)upper;
        }
        return first;
    }

    private string? Name(uint keysym)
    {
        if (keysym == 0) return null;
        if (_names.TryGetValue(keysym, out var n)) return n;
        var p = Xlib.XKeysymToString(keysym);
        n = p == null ? null : Marshal.PtrToStringUTF8((nint)p);
        if (_names.Count < 4096) _names[keysym] = n;
        return n;
    }

    private uint[][] ReadCoreMap()
    {
        var map = new uint[256][];
        var count = _maxKeycode - _minKeycode + 1;
        if (count <= 0) return map;
        int per;
        var syms = Xlib.XGetKeyboardMapping(_display, (byte)_minKeycode, count, &per);
        if (syms == null) return map;
        for (var i = 0; i < count; i++)
        {
            var row = new uint[per];
            for (var j = 0; j < per; j++) row[j] = (uint)syms[i * per + j];
            map[_minKeycode + i] = row;
        }
        Xlib.XFree(syms);
        return map;
    }

    /// <summary>Which of Mod1…Mod5 are Alt, Super, AltGr and NumLock on this server (they vary between setups).</summary>
    private void ReadModifierMap()
    {
        var map = Xlib.XGetModifierMapping(_display);
        if (map == null) return;
        uint alt = 0, win = 0, altGr = 0, numLock = 0;
        for (var mod = 3; mod < 8; mod++)
        for (var k = 0; k < map->MaxKeysPerModifier; k++)
        {
            var keycode = map->ModifierMap[mod * map->MaxKeysPerModifier + k];
            if (keycode == 0) continue;
            var bit = 1u << mod;
            switch (Translate(keycode, 0))
            {
                case 0xffe7 or 0xffe8 or 0xffe9 or 0xffea: alt |= bit; break;
                case 0xffeb or 0xffec or 0xffed or 0xffee: win |= bit; break;
                case 0xfe03 or 0xff7e or 0xfe11: altGr |= bit; break;
                case 0xff7f: numLock |= bit; break;
            }
        }
        Xlib.XFreeModifiermap(map);
        _altMask = alt != 0 ? alt : 0x08;
        _winMask = win != 0 ? win & ~_altMask : 0x40;
        _altGrMask = altGr & ~_altMask;
        _numLockMask = numLock != 0 ? numLock : 0x10;
    }

    private void FreeXkb()
    {
        if (_xkb != 0) Xlib.XkbFreeKeyboard(_xkb, 0, 1);
        _xkb = 0;
    }

    public void Dispose() => FreeXkb();
}
