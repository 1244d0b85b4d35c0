using Sandbox.Common;

namespace Sandbox.Input;

/// <summary>Limits and timings of the computer-use actions (README "Configuration", SANDBOX_ACTION_*).</summary>
internal sealed record InputOptions
{
    /// <summary>Actions accepted in one POST /computer/actions.</summary>
    public int MaxActions { get; init; } = 1000;

    /// <summary>Longest wait, hold_key or settle_ms, milliseconds.</summary>
    public int MaxDurationMs { get; init; } = 100_000;

    /// <summary>Largest scroll_amount, click count or OSWorld dx/dy.</summary>
    public int MaxRepeat { get; init; } = 1000;

    /// <summary>Longest text one type action may carry, UTF-16 code units.</summary>
    public int MaxTextLength { get; init; } = 100_000;

    /// <summary>Default pause between typed characters (and between chords of one key action), ms.</summary>
    public int TypeDelayMs { get; init; }

    /// <summary>Default pause between the last action and the screenshot of screenshot_after, ms.</summary>
    public int SettleMs { get; init; }

    /// <summary>Pointer moves between start and end of a drag, so toolkits see it cross their drag threshold.</summary>
    public int DragSteps { get; init; } = 10;

    /// <summary>How long OSWorld's WAIT waits when it names no duration, ms.</summary>
    public int OsWorldWaitMs { get; init; } = 1000;

    /// <summary>How long a request waits for the one before it to finish before answering 503, ms.</summary>
    public int QueueTimeoutMs { get; init; } = 30_000;

    /// <summary>
    /// Idle time after which keycodes remapped for typing are restored, ms. Restoring is deferred
    /// because a client looks a keycode up when it handles the event, which can be after we sent it.
    /// </summary>
    public int KeymapRestoreMs { get; init; } = 500;

    /// <summary>Minimum time between using a remapped keycode and remapping it to another character, ms.</summary>
    public int RemapSettleMs { get; init; } = 30;

    /// <summary>
    /// Pause after binding spare keycodes before typing with them, ms. Clients that translate keys with
    /// Xlib's core keymap (Tk, anything using XIM) refresh it only when they handle the MappingNotify;
    /// key events they read in the same batch as that notification are looked up in the old keymap,
    /// where the spare keycode types nothing.
    /// </summary>
    public int RemapNotifyMs { get; init; } = 50;

    /// <summary>
    /// paste_text: how long, after ctrl+v, to wait for the target application to read the clipboard before the
    /// previous content is put back, ms. The wait ends early once the application has fetched our text.
    /// </summary>
    public int PasteSettleMs { get; init; } = 1000;

    internal static InputOptions Read(EnvReader r) => new()
    {
        MaxActions = r.Int("SANDBOX_ACTION_MAX_ACTIONS", 1000, 1, 1_000_000),
        MaxDurationMs = r.Int("SANDBOX_ACTION_MAX_DURATION_MS", 100_000, 0, 3_600_000),
        MaxRepeat = r.Int("SANDBOX_ACTION_MAX_REPEAT", 1000, 1, 1_000_000),
        MaxTextLength = r.Int("SANDBOX_ACTION_MAX_TEXT", 100_000, 1, 100_000_000),
        TypeDelayMs = r.Int("SANDBOX_ACTION_TYPE_DELAY_MS", 0, 0, 10_000),
        SettleMs = r.Int("SANDBOX_ACTION_SETTLE_MS", 0, 0, 60_000),
        DragSteps = r.Int("SANDBOX_ACTION_DRAG_STEPS", 10, 1, 1000),
        OsWorldWaitMs = r.Int("SANDBOX_ACTION_OSWORLD_WAIT_MS", 1000, 0, 3_600_000),
        QueueTimeoutMs = r.Int("SANDBOX_ACTION_QUEUE_MS", 30_000, 0, 3_600_000),
        KeymapRestoreMs = r.Int("SANDBOX_ACTION_KEYMAP_RESTORE_MS", 500, 0, 3_600_000),
        RemapSettleMs = r.Int("SANDBOX_ACTION_REMAP_SETTLE_MS", 30, 0, 10_000),
        RemapNotifyMs = r.Int("SANDBOX_ACTION_REMAP_NOTIFY_MS", 50, 0, 10_000),
        PasteSettleMs = r.Int("SANDBOX_ACTION_PASTE_SETTLE_MS", 1000, 0, 60_000),
    };
}
