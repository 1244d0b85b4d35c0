using System.Collections;
using System.Globalization;

namespace Sandbox.Common;

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
