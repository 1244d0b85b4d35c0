using Sandbox.Common;

namespace Sandbox.Mcp;

/// <summary>The MCP endpoint's limits (<c>SANDBOX_MCP_*</c>, docs/mcp.md).</summary>
internal sealed class McpOptions
{
    /// <summary>Serve <c>/mcp</c> at all (<c>SANDBOX_MCP</c>).</summary>
    public bool Enabled { get; init; } = true;
    /// <summary>Sessions open at once; an initialize beyond it is refused (<c>SANDBOX_MCP_MAX_SESSIONS</c>).</summary>
    public int MaxSessions { get; init; } = 64;
    /// <summary>A session unused this long is closed and its kernel shut down (<c>SANDBOX_MCP_SESSION_IDLE_S</c>).</summary>
    public int SessionIdleSeconds { get; init; } = 3600;
    /// <summary>Longest a run_python call may run before it is interrupted (<c>SANDBOX_MCP_PYTHON_TIMEOUT_S</c>).</summary>
    public int PythonTimeoutSeconds { get; init; } = 600;
    /// <summary>Text a run_python call returns at most, characters; the rest is cut with a note (<c>SANDBOX_MCP_MAX_TEXT_CHARS</c>).</summary>
    public int MaxTextChars { get; init; } = 1 << 20;
    /// <summary>Largest file resources/read returns, bytes (<c>SANDBOX_MCP_MAX_RESOURCE_BYTES</c>).</summary>
    public int MaxResourceBytes { get; init; } = 64 << 20;
    /// <summary>Seconds between SSE keep-alive comments on the GET stream (<c>SANDBOX_MCP_KEEPALIVE_S</c>).</summary>
    public int KeepAliveSeconds { get; init; } = 30;

    public static McpOptions FromEnvironment(EnvReader r) => new()
    {
        Enabled = r.Bool("SANDBOX_MCP", true),
        MaxSessions = r.Int("SANDBOX_MCP_MAX_SESSIONS", 64, 1, 100_000),
        SessionIdleSeconds = r.Int("SANDBOX_MCP_SESSION_IDLE_S", 3600, 10, 7 * 86400),
        PythonTimeoutSeconds = r.Int("SANDBOX_MCP_PYTHON_TIMEOUT_S", 600, 1, 86400),
        MaxTextChars = r.Int("SANDBOX_MCP_MAX_TEXT_CHARS", 1 << 20, 1024, int.MaxValue / 4),
        MaxResourceBytes = r.Int("SANDBOX_MCP_MAX_RESOURCE_BYTES", 64 << 20, 1024, 1 << 30),
        KeepAliveSeconds = r.Int("SANDBOX_MCP_KEEPALIVE_S", 30, 1, 3600),
    };
}
