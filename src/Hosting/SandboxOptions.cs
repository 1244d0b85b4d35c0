using System.Collections;
using System.Globalization;

namespace Sandbox.Hosting;

/// <summary>
/// Settings of the REST appliance, read once from the environment at start and validated there, so a
/// bad value stops the process with a message instead of surfacing later as a failed request.
/// Names and defaults are the old suite's (see README "Configuration").
/// </summary>
internal sealed class SandboxOptions
{
    public string Host { get; init; } = "0.0.0.0";
    public int Port { get; init; } = 8765;
    public string SharedDir { get; init; } = "/tmp/sandbox-server";
    public string? Display { get; init; }
    public string? XAuthority { get; init; }

    /// <summary>Optional bearer token for the REST port (<c>SANDBOX_TOKEN</c>); null means open.</summary>
    public string? Token { get; init; }

    /// <summary>Largest screenshot edge accepted in <c>max_width</c>/<c>max_height</c>/region, pixels.</summary>
    public int MaxImageEdge { get; init; } = 16384;

    /// <summary>Screenshots kept in <c>SHARED_DIR/screenshots</c>; older ones are deleted (0 = keep all).</summary>
    public int ScreenshotRetention { get; init; } = 1000;

    /// <summary>How long a request waits for the X connection before answering 503, milliseconds.</summary>
    public int DisplayTimeoutMs { get; init; } = 2000;

    /// <summary>Default PNG deflate level (0–9). 1 is zlib-ng's fast path and the measured sweet spot.</summary>
    public int PngCompressionLevel { get; init; } = 1;

    /// <summary>Capture through MIT-SHM when the server offers it (<c>SANDBOX_SHM</c>); false forces XGetImage.</summary>
    public bool UseSharedMemory { get; init; } = true;

    /// <summary>Largest request body accepted on the REST port, bytes.</summary>
    public long MaxRequestBodyBytes { get; init; } = 1 << 20;

    /// <summary>The live view page and stream (SANDBOX_VIEW_*).</summary>
    public Sandbox.LiveView.LiveViewOptions LiveView { get; init; } = new();
    /// <summary>Input and screen recording (/record): <c>SANDBOX_RECORD_*</c>.</summary>
    public Sandbox.Recording.RecordingOptions Recording { get; init; } = new();
    /// <summary>The computer-use actions' limits and timings (<c>SANDBOX_ACTION_*</c>).</summary>
    public Sandbox.Input.InputOptions Input { get; init; } = new();

    public string ScreenshotDir => Path.Combine(SharedDir, "screenshots");
    public string RecordingDir => Path.Combine(SharedDir, "recordings");

    public static SandboxOptions FromEnvironment(IDictionary env)
    {
        var r = new EnvReader(env);
        var o = new SandboxOptions
        {
            Host = r.String("HOST") ?? "0.0.0.0",
            Port = r.Int("PORT", 8765, 1, 65535),
            SharedDir = r.String("SHARED_DIR") ?? "/tmp/sandbox-server",
            Display = r.String("DISPLAY"),
            XAuthority = r.String("XAUTHORITY"),
            Token = r.String("SANDBOX_TOKEN"),
            MaxImageEdge = r.Int("SANDBOX_MAX_IMAGE_EDGE", 16384, 16, 65535),
            ScreenshotRetention = r.Int("SANDBOX_SCREENSHOT_RETENTION", 1000, 0, int.MaxValue),
            DisplayTimeoutMs = r.Int("SANDBOX_DISPLAY_TIMEOUT_MS", 2000, 10, 600_000),
            PngCompressionLevel = r.Int("SANDBOX_PNG_LEVEL", 1, 0, 9),
            MaxRequestBodyBytes = r.Int("SANDBOX_MAX_BODY_BYTES", 1 << 20, 1024, int.MaxValue),
            UseSharedMemory = r.Bool("SANDBOX_SHM", true),
            LiveView = Sandbox.LiveView.LiveViewOptions.FromEnvironment(r),
            Recording = Sandbox.Recording.RecordingOptions.FromEnvironment(r),
            Input = Sandbox.Input.InputOptions.Read(r),
        };
        r.ThrowIfInvalid();
        return o;
    }
}

/// <summary>Reads typed environment values and collects every problem, so one start reports them all.</summary>
internal sealed class EnvReader(IDictionary env)
{
    private readonly List<string> _errors = [];

    public string? String(string name) =>
        env[name] is string s && s.Length > 0 ? s : null;

    public string? String(string name, string fallbackName) => String(name) ?? String(fallbackName);

    public int Int(string name, int fallback, int min, int max)
    {
        var s = String(name);
        if (s is null) return fallback;
        if (int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v >= min && v <= max)
            return v;
        _errors.Add($"{name}={s}: expected an integer from {min} to {max}");
        return fallback;
    }

    public double Double(string name, double fallback, double min, double max)
    {
        var s = String(name);
        if (s is null) return fallback;
        if (double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && v >= min && v <= max)
            return v;
        _errors.Add($"{name}={s}: expected a number from {min} to {max}");
        return fallback;
    }

    public bool Bool(string name, bool fallback)
    {
        var s = String(name);
        if (s is null) return fallback;
        switch (s.Trim().ToLowerInvariant())
        {
            case "1" or "true" or "yes" or "on": return true;
            case "0" or "false" or "no" or "off": return false;
            default:
                _errors.Add($"{name}={s}: expected true or false");
                return fallback;
        }
    }

    public void Fail(string message) => _errors.Add(message);

    public void ThrowIfInvalid()
    {
        if (_errors.Count > 0) throw new OptionsException(_errors);
    }
}

internal sealed class OptionsException(IReadOnlyList<string> errors)
    : Exception("invalid configuration: " + string.Join("; ", errors))
{
    public IReadOnlyList<string> Errors { get; } = errors;
}
