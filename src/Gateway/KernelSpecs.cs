using System.Text.Json;

namespace Sandbox.Gateway;

/// <summary>One kernelspec found on disk.</summary>
internal sealed record KernelSpec(
    string Name,
    string ResourceDir,
    string[] Argv,
    string DisplayName,
    string Language,
    bool InterruptByMessage,
    IReadOnlyDictionary<string, string> Env,
    JsonElement? Metadata,
    string? VenvRoot)
{
    public KernelSpecDoc ToDoc() => new(
        Argv, new Dictionary<string, string>(Env), DisplayName, Language,
        InterruptByMessage ? "message" : "signal", Metadata);
}

/// <summary>
/// Finds kernelspecs the way jupyter_client's KernelSpecManager does: <c>kernels/&lt;name&gt;/kernel.json</c>
/// under each Jupyter data directory, the first directory holding a name wins. Order: JUPYTER_PATH,
/// the user data dir, the kernel venv's <c>share/jupyter</c> (jupyter's "sys.prefix" slot), then the
/// system dirs. Rescanned on every lookup: a handful of small files, and specs installed while the
/// appliance runs (e.g. by <c>ipykernel install</c> from a cell) show up without a restart.
/// </summary>
internal sealed class KernelSpecCatalog(GatewayOptions options, Func<string?> venvRoot)
{
    public IReadOnlyList<string> SearchDirs()
    {
        var dirs = new List<string>();
        foreach (var p in options.JupyterPath) dirs.Add(Path.Combine(p, "kernels"));
        var user = options.JupyterDataDir ?? (options.Home is { } home ? Path.Combine(home, ".local", "share", "jupyter") : null);
        if (user is not null) dirs.Add(Path.Combine(user, "kernels"));
        if (venvRoot() is { } venv) dirs.Add(Path.Combine(venv, "share", "jupyter", "kernels"));
        dirs.Add("/usr/local/share/jupyter/kernels");
        dirs.Add("/usr/share/jupyter/kernels");
        return dirs;
    }

    public SortedDictionary<string, KernelSpec> All()
    {
        var found = new SortedDictionary<string, KernelSpec>(StringComparer.Ordinal);
        var venv = venvRoot();
        foreach (var dir in SearchDirs())
        {
            if (!Directory.Exists(dir)) continue;
            IEnumerable<string> subdirs;
            try { subdirs = Directory.EnumerateDirectories(dir); }
            catch (IOException) { continue; }
            catch (UnauthorizedAccessException) { continue; }
            foreach (var sub in subdirs)
            {
                var name = Path.GetFileName(sub).ToLowerInvariant();
                if (found.ContainsKey(name) || !IsValidName(name)) continue;
                if (Load(name, sub, venv) is { } spec) found[name] = spec;
            }
        }
        return found;
    }

    public KernelSpec? Find(string name)
    {
        name = name.ToLowerInvariant();
        if (!IsValidName(name)) return null;
        var venv = venvRoot();
        foreach (var dir in SearchDirs())
        {
            var sub = Path.Combine(dir, name);
            if (File.Exists(Path.Combine(sub, "kernel.json")) && Load(name, sub, venv) is { } spec) return spec;
        }
        return null;
    }

    /// <summary>jupyter_client accepts ASCII letters, digits, '.', '_' and '-'.</summary>
    public static bool IsValidName(string name) =>
        name.Length > 0 && name.All(c => c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '.' or '_' or '-');

    private static KernelSpec? Load(string name, string resourceDir, string? venv)
    {
        var file = Path.Combine(resourceDir, "kernel.json");
        try
        {
            using var stream = File.OpenRead(file);
            var doc = JsonSerializer.Deserialize(stream, KernelSpecFileJson.Default.KernelSpecFile);
            if (doc?.Argv is not { Length: > 0 } argv) return null;
            var inVenv = venv is not null && Path.GetFullPath(resourceDir).StartsWith(Path.GetFullPath(venv) + "/", StringComparison.Ordinal);
            return new KernelSpec(
                name, resourceDir, argv, doc.DisplayName ?? name, doc.Language ?? "",
                string.Equals(doc.InterruptMode, "message", StringComparison.Ordinal),
                doc.Env ?? new Dictionary<string, string>(), doc.Metadata, inVenv ? venv : null);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            return null;
        }
    }

    /// <summary>The REST model: the spec plus URLs of its logos and kernel.js/css.</summary>
    public static KernelSpecModel Model(KernelSpec spec)
    {
        var resources = new Dictionary<string, string>(StringComparer.Ordinal);
        try
        {
            foreach (var f in Directory.EnumerateFiles(spec.ResourceDir))
            {
                var file = Path.GetFileName(f);
                if (file is "kernel.js" or "kernel.css") resources[file] = $"/kernelspecs/{spec.Name}/{file}";
                else if (file.StartsWith("logo-", StringComparison.Ordinal))
                    resources[Path.GetFileNameWithoutExtension(file)] = $"/kernelspecs/{spec.Name}/{file}";
            }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return new KernelSpecModel(spec.Name, spec.ToDoc(), resources);
    }
}
