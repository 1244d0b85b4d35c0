using System.Text.RegularExpressions;
using Sandbox.Common;

using Sandbox.Web;

namespace Sandbox.Fleet;

/// <summary>The body of <c>POST /init</c>; every field optional.</summary>
internal sealed record InitRequest(string? Token = null, Dictionary<string, string>? Env = null, string? Timestamp = null);

internal sealed record InitResponse(bool TokenSet, int EnvCount, double? ClockSkewMs);

/// <summary>What setting the token did.</summary>

/// <summary>
/// Per-claim settings pushed into a warm sandbox after it was claimed (agent-sandbox cannot give env to warm
/// pods; E2B's orchestrator pushes the same after boot or restore): a token set once for both ports, variables
/// for the kernels and processes started from now on, and the caller's clock. Idempotent: the same request
/// again changes nothing and answers the same, so an orchestrator can retry it every few milliseconds.
/// </summary>
internal sealed partial class InitService(FleetOptions options, Func<string, TokenChange> setToken, Action? environmentChanged = null)
{
    private readonly Lock _gate = new();
    private double? _clockSkewMs;

    /// <summary>Names the appliance reads at start or keeps from its kernels; setting them later would mislead.</summary>
    private static readonly string[] ReservedPrefixes = ["SANDBOX_", "KG_", "JUPYTER_"];
    private static readonly HashSet<string> ReservedNames = new(StringComparer.Ordinal)
        { "DISPLAY", "XAUTHORITY", "HOME", "PATH", "HOST", "PORT", "SHARED_DIR", "LD_PRELOAD", "LD_LIBRARY_PATH" };

    public double? ClockSkewMs => _clockSkewMs;

    public InitResponse Apply(InitRequest request)
    {
        // Validate everything before changing anything, so a refused request leaves no partial state.
        var env = request.Env ?? [];
        if (env.Count > options.InitMaxEnv)
            throw SandboxException.BadField("env", $"at most {options.InitMaxEnv} variables");
        long bytes = 0;
        foreach (var (name, value) in env)
        {
            if (!EnvName().IsMatch(name)) throw SandboxException.BadField("env", $"'{Printable(name)}' is not a variable name ([A-Za-z_][A-Za-z0-9_]*)");
            if (ReservedNames.Contains(name) || ReservedPrefixes.Any(p => name.StartsWith(p, StringComparison.Ordinal)))
                throw SandboxException.BadField("env", $"{name} is the appliance's own setting and cannot be changed by /init");
            if (value is null) throw SandboxException.BadField("env", $"{name}: the value must be a string");
            if (value.Contains('\0')) throw SandboxException.BadField("env", $"{name}: the value contains NUL");
            bytes += name.Length + value.Length;
        }
        if (bytes > options.InitMaxEnvBytes) throw SandboxException.BadField("env", $"at most {options.InitMaxEnvBytes} bytes of names and values");
        DateTimeOffset? hint = null;
        if (request.Timestamp is { } ts)
        {
            if (!DateTimeOffset.TryParse(ts, System.Globalization.CultureInfo.InvariantCulture,
                    System.Globalization.DateTimeStyles.AssumeUniversal, out var parsed))
                throw SandboxException.BadField("timestamp", "expected an ISO-8601 date and time, e.g. 2026-11-29T20:00:00.000Z");
            hint = parsed;
        }
        if (request.Token is { } token && (token.Length == 0 || token.Length > 4096 || token.Any(char.IsControl)))
            throw SandboxException.BadField("token", "expected 1 to 4096 printable characters");

        lock (_gate)
        {
            var tokenSet = false;
            if (request.Token is { } t)
            {
                if (setToken(t) == TokenChange.Conflict)
                    throw new SandboxException(ErrorKind.Conflict, "a different token is already set; it cannot be changed");
                tokenSet = true;
            }
            if (env.Count > 0 && !SameAsCurrent(env))
            {
                InitEnvironment.Set(env);
                // Kernels already waiting in a pool lack the variables: the gateway replaces them.
                environmentChanged?.Invoke();
            }
            // The caller's clock against ours: recorded (a restored snapshot's wall clock may be off), never
            // applied (an unprivileged container cannot set the clock; every timer here is monotonic anyway).
            if (hint is { } h) _clockSkewMs = Math.Round((h - DateTimeOffset.UtcNow).TotalMilliseconds, 1);
            return new InitResponse(tokenSet, env.Count, _clockSkewMs);
        }
    }

    private static bool SameAsCurrent(Dictionary<string, string> env)
    {
        var current = InitEnvironment.Snapshot();
        return env.All(kv => current.TryGetValue(kv.Key, out var v) && v == kv.Value);
    }

    private static string Printable(string s) => new(s.Take(64).Select(c => char.IsControl(c) ? '?' : c).ToArray());

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex EnvName();
}
