using System.Text.RegularExpressions;
using Sandbox.Testing;

namespace Sandbox.Tests.Architecture;

/// <summary>
/// Dependencies point one way (docs/architecture.md): shared layer ← areas ← adapters ← Hosting. Each folder of
/// src/ is one namespace; this reads every source file and fails on a reference (a using or a qualified name)
/// that the table below does not allow, and on a folder the table does not know (a new area must say where it
/// sits).
/// </summary>
public sealed partial class DependencyTests
{
    private static readonly string[] Shared = ["Native", "Common"];

    /// <summary>What each namespace may reference besides itself.</summary>
    private static readonly Dictionary<string, string[]> Allowed = new()
    {
        // The shared layer.
        ["Native"] = [],
        ["Common"] = ["Native"],
        ["Imaging"] = [.. Shared],
        ["Display"] = [.. Shared],
        ["Web"] = [.. Shared],
        // Areas: the shared layer, and lower areas whose services they are given.
        ["Capture"] = [.. Shared, "Imaging", "Display", "Web"],
        ["Gateway"] = [.. Shared, "Web"],
        ["Recording"] = [.. Shared, "Display", "Web"],
        ["Input"] = [.. Shared, "Imaging", "Display", "Web", "Capture", "Accessibility", "Clipboard", "Desktop"],
        ["Fleet"] = [.. Shared, "Web"],
        ["Processes"] = [.. Shared, "Web"],
        ["Files"] = [.. Shared, "Web"],
        ["Accessibility"] = [.. Shared, "Display", "Web"],
        ["Clipboard"] = [.. Shared, "Display", "Web"],
        ["Desktop"] = [.. Shared, "Imaging", "Display", "Web"],
        // Adapters: protocol front-ends over the areas.
        ["LiveView"] = [.. Shared, "Imaging", "Display", "Web", "Capture", "Input"],
        ["Api"] = [.. Shared, "Imaging", "Display", "Web", "Capture", "Gateway", "Recording", "Input", "LiveView", "Fleet", "Processes", "Files",
                   "Accessibility", "Clipboard", "Desktop"],
        // MCP reads the REST contract tables (parameters, action schema) that Api's OpenAPI document is built from.
        // Its tools for processes, files and accessibility are thin calls into those areas' services.
        ["Mcp"] = [.. Shared, "Imaging", "Display", "Web", "Capture", "Gateway", "Recording", "Input", "Api", "Processes", "Files", "Accessibility", "Clipboard", "Desktop"],
        // OSWorld's in-VM server contract over the areas' services (docs/osworld.md).
        ["OsWorld"] = [.. Shared, "Web", "Capture", "Recording", "Processes", "Files", "Accessibility", "Desktop"],
        // The composition root may reference everything; nothing may reference it.
        ["Hosting"] = ["*"],
    };

    [Fact]
    public void Every_namespace_references_only_what_it_may()
    {
        var problems = new List<string>();
        var folders = Directory.GetDirectories(Path.Combine(Repo.Root, "src")).Select(Path.GetFileName).ToList();
        foreach (var folder in folders.Append("Native"))
        {
            var dir = folder == "Native" ? Path.Combine(Repo.Root, "native") : Path.Combine(Repo.Root, "src", folder!);
            if (!Directory.EnumerateFiles(dir, "*.cs", SearchOption.AllDirectories).Any()) continue;
            if (!Allowed.TryGetValue(folder!, out var allowed))
            {
                problems.Add($"src/{folder}: not in the dependency table of {nameof(DependencyTests)}; add it where it belongs");
                continue;
            }
            foreach (var file in Directory.EnumerateFiles(dir, "*.cs", SearchOption.AllDirectories))
            {
                var text = File.ReadAllText(file);
                foreach (Match m in Reference().Matches(text))
                {
                    var target = m.Groups[1].Value;
                    if (target == folder || allowed.Contains("*") || allowed.Contains(target)) continue;
                    if (!Allowed.ContainsKey(target)) continue;   // not one of our namespaces (e.g. Sandbox.Tests)
                    problems.Add($"{Path.GetRelativePath(Repo.Root, file)}: Sandbox.{folder} references Sandbox.{target}");
                }
            }
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems.Distinct()));
    }

    [Fact]
    public void Each_folder_declares_its_own_namespace()
    {
        var wrong = new List<string>();
        foreach (var file in Directory.EnumerateFiles(Path.Combine(Repo.Root, "src"), "*.cs", SearchOption.AllDirectories))
        {
            var folder = Path.GetRelativePath(Path.Combine(Repo.Root, "src"), file).Split(Path.DirectorySeparatorChar)[0];
            var ns = Namespace().Match(File.ReadAllText(file));
            if (ns.Success && ns.Groups[1].Value != folder) wrong.Add($"{Path.GetRelativePath(Repo.Root, file)}: namespace Sandbox.{ns.Groups[1].Value}");
        }
        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
    }

    [GeneratedRegex(@"\bSandbox\.([A-Z][A-Za-z]+)\b")]
    private static partial Regex Reference();

    [GeneratedRegex(@"^namespace Sandbox\.([A-Za-z]+)", RegexOptions.Multiline)]
    private static partial Regex Namespace();
}
