namespace Sandbox.Testing;

/// <summary>Where things are: the repository, the published binary, the test scenes.</summary>
public static class Repo
{
    public static string Root { get; } = FindRoot();

    /// <summary>The published AOT binary (<c>SANDBOX_BINARY</c> overrides; build-aot.sh makes it).</summary>
    public static string Binary =>
        Environment.GetEnvironmentVariable("SANDBOX_BINARY") is { Length: > 0 } b ? b : Path.Combine(Root, "out", "sandbox");

    /// <summary>The scenes folder: <c>SANDBOX_SCENES</c>, else tests/fixtures in the repository.</summary>
    public static string Scenes =>
        Environment.GetEnvironmentVariable("SANDBOX_SCENES") is { Length: > 0 } s ? s : Path.Combine(Root, "tests", "fixtures");

    public static string Scene(string name) => Path.Combine(Scenes, name);

    /// <summary>Debian's interpreter, which has the python3-* packages the tests use.</summary>
    public const string SystemPython = "/usr/bin/python3";

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Sandbox.csproj"))) return dir.FullName;
        throw new InvalidOperationException("cannot find the repository root (Sandbox.csproj) above " + AppContext.BaseDirectory);
    }
}
