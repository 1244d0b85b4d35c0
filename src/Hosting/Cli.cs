using System.Collections;
using Sandbox.Common;
using Sandbox.Gateway;

namespace Sandbox.Hosting;

internal enum CliCommand { Run, Help, Version, Invalid }

/// <summary>
/// <c>sandbox [--help | --version]</c>. Everything else is configured by environment variables (as the old suite
/// and Kernel Gateway were), so the help lists them from the readers themselves: the option classes are run
/// over an empty environment and every variable they read is printed with its default and accepted values.
/// </summary>
internal static class Cli
{
    public static string Version { get; } = typeof(Cli).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";

    public static CliCommand Parse(string[] args) => args switch
    {
        [] => CliCommand.Run,
        ["--help" or "-h" or "help"] => CliCommand.Help,
        ["--version" or "-V" or "version"] => CliCommand.Version,
        _ => CliCommand.Invalid,
    };

    public static void PrintHelp(TextWriter o)
    {
        o.WriteLine($"sandbox {Version}: the in-VM service for computer-use agents (REST on PORT, Kernel Gateway API on JUPYTER_KERNEL_GATEWAY_APP_PORT).");
        o.WriteLine();
        o.WriteLine("usage: sandbox            run (settings from the environment; a bad value exits with code 2)");
        o.WriteLine("       sandbox --help     this text");
        o.WriteLine("       sandbox --version  the version");
        o.WriteLine();
        o.WriteLine("environment (default; accepted values). Details: docs/configuration.md");
        var empty = new Hashtable();
        var options = EnvReader.Catalog(() =>
        {
            SandboxOptions.FromEnvironment(empty);
            GatewayOptions.FromEnvironment(empty);
        });
        var width = options.Max(x => x.Name.Length) + 2;
        foreach (var x in options.OrderBy(x => x.Name, StringComparer.Ordinal))
            o.WriteLine($"  {x.Name.PadRight(width)}{(x.Default.Length == 0 ? "(unset)" : x.Default)}; {x.Accepted}");
    }
}
