using Sandbox.Common;

namespace Sandbox.Accessibility;

/// <summary>Limits and switches of the accessibility tree (docs/accessibility.md, SANDBOX_A11Y_*).</summary>
internal sealed record AccessibilityOptions
{
    /// <summary>Set org.a11y.Status.IsEnabled on the session bus when connecting (SANDBOX_A11Y_ENABLE).</summary>
    public bool EnableAccessibility { get; init; } = true;

    /// <summary>Also set ScreenReaderEnabled, which some toolkits wait for (SANDBOX_A11Y_SCREEN_READER; Chromium needs --force-renderer-accessibility).</summary>
    public bool EnableScreenReader { get; init; } = true;

    /// <summary>
    /// Talk to applications over their direct (peer-to-peer) connections where the toolkit offers one
    /// (org.a11y.atspi.Application.GetApplicationBusAddress), instead of through the bus daemon (SANDBOX_A11Y_DIRECT).
    /// </summary>
    public bool DirectConnections { get; init; } = true;

    /// <summary>
    /// Keep elements' text, values and actions between walks and read them again only after the application announced a
    /// change (AT-SPI object events) or the element's role, name, states or interfaces changed (SANDBOX_A11Y_CACHE).
    /// </summary>
    public bool DetailCache { get; init; } = true;

    /// <summary>Longest wait for the bus address and connection, ms (SANDBOX_A11Y_CONNECT_TIMEOUT_MS).</summary>
    public int ConnectTimeoutMs { get; init; } = 3000;

    /// <summary>After a failed connection, answer 503 without retrying for this long, ms (SANDBOX_A11Y_RETRY_MS).</summary>
    public int RetryAfterFailureMs { get; init; } = 2000;

    /// <summary>Default time budget of one application's walk, ms (SANDBOX_A11Y_APP_TIMEOUT_MS); timeout_ms overrides it.</summary>
    public int AppTimeoutMs { get; init; } = 2000;

    /// <summary>Largest timeout_ms a request may ask for, ms (SANDBOX_A11Y_MAX_TIMEOUT_MS).</summary>
    public int MaxTimeoutMs { get; init; } = 30_000;

    /// <summary>Default and largest element count of one tree (SANDBOX_A11Y_MAX_NODES).</summary>
    public int MaxNodes { get; init; } = 20_000;

    /// <summary>Deepest level below the desktop (SANDBOX_A11Y_MAX_DEPTH; OSWorld's is 50).</summary>
    public int MaxDepth { get; init; } = 50;

    /// <summary>Most children read of one element (SANDBOX_A11Y_MAX_CHILDREN; OSWorld's is 1024).</summary>
    public int MaxChildren { get; init; } = 1024;

    /// <summary>Longest text read of one element, characters (SANDBOX_A11Y_MAX_TEXT).</summary>
    public int MaxTextLength { get; init; } = 100_000;

    /// <summary>Element ids remembered before the oldest are forgotten (SANDBOX_A11Y_MAX_IDS).</summary>
    public int MaxIds { get; init; } = 200_000;

    /// <summary>Longest wait for one element action, ms (SANDBOX_A11Y_ACTION_TIMEOUT_MS).</summary>
    public int ActionTimeoutMs { get; init; } = 5000;

    /// <summary>
    /// At most this often (ms), a quarter second after a tree walk, the GC compacts the heap and returns the
    /// free memory to the system, so walks do not leave RSS behind (SANDBOX_A11Y_TRIM_MS; 0 = never).
    /// </summary>
    public int TrimIntervalMs { get; init; } = 5000;

    public static AccessibilityOptions FromEnvironment(EnvReader r) => new()
    {
        EnableAccessibility = r.Bool("SANDBOX_A11Y_ENABLE", true),
        EnableScreenReader = r.Bool("SANDBOX_A11Y_SCREEN_READER", true),
        DirectConnections = r.Bool("SANDBOX_A11Y_DIRECT", true),
        DetailCache = r.Bool("SANDBOX_A11Y_CACHE", true),
        ConnectTimeoutMs = r.Int("SANDBOX_A11Y_CONNECT_TIMEOUT_MS", 3000, 100, 60_000),
        RetryAfterFailureMs = r.Int("SANDBOX_A11Y_RETRY_MS", 2000, 0, 600_000),
        AppTimeoutMs = r.Int("SANDBOX_A11Y_APP_TIMEOUT_MS", 2000, 10, 600_000),
        MaxTimeoutMs = r.Int("SANDBOX_A11Y_MAX_TIMEOUT_MS", 30_000, 10, 600_000),
        MaxNodes = r.Int("SANDBOX_A11Y_MAX_NODES", 20_000, 1, 10_000_000),
        MaxDepth = r.Int("SANDBOX_A11Y_MAX_DEPTH", 50, 1, 10_000),
        MaxChildren = r.Int("SANDBOX_A11Y_MAX_CHILDREN", 1024, 1, 1_000_000),
        MaxTextLength = r.Int("SANDBOX_A11Y_MAX_TEXT", 100_000, 1, 100_000_000),
        MaxIds = r.Int("SANDBOX_A11Y_MAX_IDS", 200_000, 100, 100_000_000),
        ActionTimeoutMs = r.Int("SANDBOX_A11Y_ACTION_TIMEOUT_MS", 5000, 10, 600_000),
        TrimIntervalMs = r.Int("SANDBOX_A11Y_TRIM_MS", 5000, 0, 3_600_000),
    };
}
