using Sandbox.Common;

namespace Sandbox.Clipboard;

/// <summary>Limits of /clipboard, from <c>SANDBOX_CLIPBOARD_*</c> (docs/clipboard.md).</summary>
internal sealed class ClipboardOptions
{
    /// <summary>Largest content set or read, bytes (a PUT body, or what another owner sends).</summary>
    public int MaxBytes { get; init; } = 64 << 20;
    /// <summary>How long a read waits for the selection owner's answer (and for each INCR chunk), ms.</summary>
    public int ReadTimeoutMs { get; init; } = 3000;
    /// <summary>Content larger than this goes to requestors in INCR chunks of this size, bytes.</summary>
    public int IncrChunkBytes { get; init; } = 256 << 10;
    /// <summary>An INCR transfer to a requestor that stops taking chunks is dropped after this long, ms.</summary>
    public int TransferTimeoutMs { get; init; } = 10_000;
    /// <summary>How long opening or using the clipboard's X connection may wait, ms.</summary>
    public int DisplayTimeoutMs { get; init; } = 2000;

    public static ClipboardOptions FromEnvironment(EnvReader r) => new()
    {
        MaxBytes = r.Int("SANDBOX_CLIPBOARD_MAX_BYTES", 64 << 20, 1024, 1 << 30),
        ReadTimeoutMs = r.Int("SANDBOX_CLIPBOARD_TIMEOUT_MS", 3000, 10, 600_000),
        IncrChunkBytes = r.Int("SANDBOX_CLIPBOARD_CHUNK_BYTES", 256 << 10, 1024, 16 << 20),
        TransferTimeoutMs = r.Int("SANDBOX_CLIPBOARD_TRANSFER_TIMEOUT_MS", 10_000, 100, 600_000),
        DisplayTimeoutMs = r.Int("SANDBOX_DISPLAY_TIMEOUT_MS", 2000, 10, 600_000),
    };
}
