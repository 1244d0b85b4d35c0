using System.Collections;
using System.Globalization;

namespace Sandbox.Common;

/// <summary>One setting as the readers declare it: its variable, default and accepted values.</summary>
internal sealed record OptionInfo(string Name, string Default, string Accepted);

/// <summary>
/// Reads typed environment values and collects every problem, so one start reports them all. Every read also
/// declares the variable (name, default, accepted values) to <see cref="Catalog"/> when one is being taken,
/// so <c>sandbox --help</c> lists the settings from the very code that reads them.
/// </summary>
internal sealed class EnvReader(IDictionary env)
{
    private readonly List<string> _errors = [];

    [ThreadStatic] private static List<OptionInfo>? s_catalog;

    /// <summary>Runs <paramref name="read"/> (option readers over an empty environment) and returns every variable they read.</summary>
    public static IReadOnlyList<OptionInfo> Catalog(Action read)
    {
        s_catalog = [];
        try
        {
            read();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            return s_catalog.Where(o => seen.Add(o.Name)).ToList();
        }
        finally { s_catalog = null; }
    }

    private static void Declare(string name, string fallback, string accepted) => s_catalog?.Add(new OptionInfo(name, fallback, accepted));

    public string? String(string name)
    {
        Declare(name, "", "text");
        return env[name] is string s && s.Length > 0 ? s : null;
    }

    /// <summary>A text setting with a default (declared, so --help shows it).</summary>
    public string Text(string name, string fallback)
    {
        Declare(name, fallback, "text");
        return Raw(name) ?? fallback;
    }

    public string? String(string name, string fallbackName) => String(name) ?? String(fallbackName);

    public int Int(string name, int fallback, int min, int max)
    {
        Declare(name, fallback.ToString(CultureInfo.InvariantCulture), $"{min}..{max}");
        var s = Raw(name);
        if (s is null) return fallback;
        if (int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v >= min && v <= max)
            return v;
        _errors.Add($"{name}={s}: expected an integer from {min} to {max}");
        return fallback;
    }

    public long Long(string name, long fallback, long min, long max)
    {
        Declare(name, fallback.ToString(CultureInfo.InvariantCulture), $"{min}..{max}");
        var s = Raw(name);
        if (s is null) return fallback;
        if (long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v >= min && v <= max)
            return v;
        _errors.Add($"{name}={s}: expected an integer from {min} to {max}");
        return fallback;
    }

    /// <summary>One of an enum's names, case-insensitive.</summary>
    public T Choice<T>(string name, T fallback) where T : struct, Enum
    {
        Declare(name, fallback.ToString().ToLowerInvariant(), string.Join("|", Enum.GetNames<T>()).ToLowerInvariant());
        var s = Raw(name);
        if (s is null) return fallback;
        if (Enum.TryParse<T>(s.Trim(), ignoreCase: true, out var v) && Enum.IsDefined(v) && !int.TryParse(s, out _)) return v;
        _errors.Add($"{name}={s}: expected one of {string.Join(", ", Enum.GetNames<T>()).ToLowerInvariant()}");
        return fallback;
    }

    public double Double(string name, double fallback, double min, double max)
    {
        Declare(name, fallback.ToString(CultureInfo.InvariantCulture), $"{min}..{max}");
        var s = Raw(name);
        if (s is null) return fallback;
        if (double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && v >= min && v <= max)
            return v;
        _errors.Add($"{name}={s}: expected a number from {min} to {max}");
        return fallback;
    }

    public bool Bool(string name, bool fallback)
    {
        Declare(name, fallback ? "true" : "false", "true|false");
        var s = Raw(name);
        if (s is null) return fallback;
        if (Lookup.Flag(s) is { } v) return v;
        _errors.Add($"{name}={s}: expected true or false");
        return fallback;
    }

    private string? Raw(string name) => env[name] is string s && s.Length > 0 ? s : null;

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
