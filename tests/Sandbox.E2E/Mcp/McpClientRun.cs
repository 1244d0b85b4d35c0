using System.Text.Json;
using Sandbox.Testing;

namespace Sandbox.E2E.Mcp;

/// <summary>One run of tests/mcp/client.mjs (the official MCP TypeScript SDK client) against an appliance.</summary>
public sealed class McpClientRun : IDisposable
{
    public static string ScriptDir => Path.Combine(Repo.Root, "tests", "mcp");

    private McpClientRun(string outDir, JsonElement result)
    {
        OutDir = outDir;
        Result = result;
    }

    public string OutDir { get; }
    public JsonElement Result { get; }

    public static McpClientRun Run(string baseUrl, string? token, params string[] steps)
    {
        if (!Directory.Exists(Path.Combine(ScriptDir, "node_modules", "@modelcontextprotocol", "sdk")))
            throw new InvalidOperationException($"@modelcontextprotocol/sdk is not installed: run `npm ci` in {ScriptDir} (./test.sh does)");
        var outDir = Directory.CreateTempSubdirectory("sandbox-mcp-").FullName;
        var args = new List<string> { Path.Combine(ScriptDir, "client.mjs"), baseUrl, outDir };
        if (token is not null) args.AddRange(["--token", token]);
        args.AddRange(steps);
        var (code, stdout, stderr) = Processes.Run("node", args, timeoutMs: 240_000);
        var line = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault();
        if (code != 0 || line is null) throw new InvalidOperationException($"client.mjs exited {code}: {stderr}\n{stdout}");
        return new McpClientRun(outDir, JsonDocument.Parse(line).RootElement.Clone());
    }

    /// <summary>A step's result, failing the test with the script's error when the step threw.</summary>
    public JsonElement Step(string step)
    {
        Assert.True(Result.GetProperty("steps").TryGetProperty(step, out var s), $"step {step} missing: {Result}");
        if (s.ValueKind == JsonValueKind.Object && s.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.String)
            Assert.Fail($"MCP client step {step}: {e.GetString()}");
        return s;
    }

    public string File(string name) => Path.Combine(OutDir, name);

    public void Dispose()
    {
        try { Directory.Delete(OutDir, recursive: true); } catch (IOException) { }
    }
}
