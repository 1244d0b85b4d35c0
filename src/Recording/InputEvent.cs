using System.Globalization;
using System.Text.Json.Serialization;

namespace Sandbox.Recording;

[JsonConverter(typeof(JsonStringEnumConverter<InputKind>))]
internal enum InputKind
{
    [JsonStringEnumMemberName("key_press")] KeyPress,
    [JsonStringEnumMemberName("key_release")] KeyRelease,
    [JsonStringEnumMemberName("button_press")] ButtonPress,
    [JsonStringEnumMemberName("button_release")] ButtonRelease,
    [JsonStringEnumMemberName("motion")] Motion,
}

/// <summary>Modifiers held when a key or button event happened, classified from the X state and modifier map.</summary>
[Flags]
internal enum HeldModifiers
{
    None = 0,
    Ctrl = 1,
    Alt = 2,
    Shift = 4,
    Win = 8,
    AltGr = 16,
}

/// <summary>
/// One input event as XRecord delivered it, resolved (keysym, names, text) when it arrived: one line of the
/// journal (<c>events-&lt;ts&gt;.jsonl</c>). The action list is a pure function of these lines, so it can be
/// rebuilt from a journal that outlived the process.
/// </summary>
internal sealed class InputEvent
{
    /// <summary>1-based position in the recording; a gap would show a lost event.</summary>
    public long Seq { get; set; }
    public InputKind Event { get; set; }
    /// <summary>Monotonic seconds since the recording started (from the X server's event time).</summary>
    public double Time { get; set; }
    /// <summary>Wall clock, ISO-8601 UTC with microseconds.</summary>
    public string Timestamp { get; set; } = "";
    /// <summary>The X server's millisecond event time (wraps every 49.7 days).</summary>
    public uint ServerTime { get; set; }
    /// <summary>Pointer position on the root window.</summary>
    public int X { get; set; }
    public int Y { get; set; }
    public int? Button { get; set; }
    public int? Keycode { get; set; }
    /// <summary>The keysym the key produced with the modifiers and layout group in effect.</summary>
    public uint? Keysym { get; set; }
    /// <summary>X's name of that keysym ("Return", "eacute", "U2713").</summary>
    public string? Symbol { get; set; }
    /// <summary>pynput-style: the character, or <c>Key.enter</c> for special keys.</summary>
    public string? Key { get; set; }
    /// <summary>The unshifted key's name, as used in combinations (<c>t</c> for shift+T, <c>enter</c>).</summary>
    public string? Base { get; set; }
    /// <summary>The text the key types, when it types something.</summary>
    public string? Text { get; set; }
    /// <summary>Held modifiers as "ctrl+shift"; absent when none.</summary>
    [JsonPropertyName("modifiers")]
    public string? ModifiersText
    {
        get => Modifiers == HeldModifiers.None ? null : FormatModifiers(Modifiers);
        set => Modifiers = ParseModifiers(value);
    }
    /// <summary>The raw X modifier/button state field.</summary>
    public int? State { get; set; }

    [JsonIgnore]
    public HeldModifiers Modifiers { get; set; }

    public static string FormatModifiers(HeldModifiers m)
    {
        var parts = new List<string>(2);
        if ((m & HeldModifiers.Ctrl) != 0) parts.Add("ctrl");
        if ((m & HeldModifiers.Alt) != 0) parts.Add("alt");
        if ((m & HeldModifiers.Shift) != 0) parts.Add("shift");
        if ((m & HeldModifiers.Win) != 0) parts.Add("win");
        if ((m & HeldModifiers.AltGr) != 0) parts.Add("altgr");
        return string.Join('+', parts);
    }

    public static HeldModifiers ParseModifiers(string? s)
    {
        var m = HeldModifiers.None;
        if (string.IsNullOrEmpty(s)) return m;
        foreach (var p in s.Split('+'))
            m |= p switch
            {
                "ctrl" => HeldModifiers.Ctrl,
                "alt" => HeldModifiers.Alt,
                "shift" => HeldModifiers.Shift,
                "win" => HeldModifiers.Win,
                "altgr" => HeldModifiers.AltGr,
                _ => HeldModifiers.None,
            };
        return m;
    }

    /// <summary>ISO-8601 UTC with six fractional digits and "+00:00", which every Python's datetime.fromisoformat reads.</summary>
    public static string FormatTimestamp(DateTime utc) =>
        utc.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'+00:00'", CultureInfo.InvariantCulture);
}
