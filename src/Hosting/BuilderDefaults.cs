using Microsoft.AspNetCore.Builder;

namespace Sandbox.Hosting;

/// <summary>Builder options shared by the appliance's web applications (REST and kernel gateway).</summary>
internal static class BuilderDefaults
{
    /// <summary>
    /// Settings come from the environment only (SandboxOptions), so configuration files are never
    /// reloaded. The framework's default would watch the content root (the working directory) for
    /// appsettings.json changes with a recursive FileSystemWatcher: one inotify watch per directory
    /// below it, which from a busy /tmp or / took seconds before the port was bound (measured: 7 s
    /// against 47 ms without it, from a /tmp of ~900 directories).
    /// </summary>
    public static WebApplicationOptions Options(string[] args) => new()
    {
        Args = [.. args, "--hostBuilder:reloadConfigOnChange=false"],
    };
}
