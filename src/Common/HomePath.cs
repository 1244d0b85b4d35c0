namespace Sandbox.Common;

/// <summary>
/// Paths as clients give them: absolute, <c>~</c> or <c>~/x</c> (the service user's home), or relative to
/// that home. Shared by every area that takes a path (files, a command's working directory).
/// </summary>
internal static class HomePath
{
    public static string Home { get; } = FindHome();

    /// <summary>The absolute, normalized path; a 400 naming <paramref name="field"/> when empty or not a path.</summary>
    public static string Resolve(string? path, string field)
    {
        if (string.IsNullOrWhiteSpace(path)) throw SandboxException.BadField(field, "a path is required");
        if (path.Contains('\0')) throw SandboxException.BadField(field, "a path cannot contain NUL");
        string full;
        if (path == "~") full = Home;
        else if (path.StartsWith("~/", StringComparison.Ordinal)) full = Path.Combine(Home, path[2..]);
        else if (path.StartsWith('~')) throw SandboxException.BadField(field, "only ~ and ~/ (the service user's home) are expanded");
        else full = Path.IsPathRooted(path) ? path : Path.Combine(Home, path);
        full = Path.GetFullPath(full);
        // GetFullPath keeps a trailing separator; "/a/b/" and "/a/b" are one path (the root stays "/").
        return full.Length > 1 ? full.TrimEnd('/') : full;
    }

    private static string FindHome()
    {
        var home = Environment.GetEnvironmentVariable("HOME");
        if (string.IsNullOrEmpty(home)) home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return string.IsNullOrEmpty(home) ? "/" : home;
    }
}
