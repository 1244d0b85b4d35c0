namespace Sandbox.Common;

/// <summary>Small lookups several areas need, written once.</summary>
internal static class Lookup
{
    /// <summary>The full path of <paramref name="program"/>: as given when it has a slash, else the first match on
    /// <paramref name="path"/> (default: this process's PATH, or the usual directories); null when not installed.</summary>
    public static string? Executable(string program, string? path = null)
    {
        if (program.Contains('/')) return File.Exists(program) ? Path.GetFullPath(program) : null;
        path ??= Environment.GetEnvironmentVariable("PATH") ?? "/usr/local/bin:/usr/bin:/bin";
        foreach (var dir in path.Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, program);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }

    /// <summary>The yes/no words every setting and parameter accepts: true/1/yes/on and false/0/no/off; null otherwise.</summary>
    public static bool? Flag(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        "1" or "true" or "yes" or "on" => true,
        "0" or "false" or "no" or "off" => false,
        _ => null,
    };
}
