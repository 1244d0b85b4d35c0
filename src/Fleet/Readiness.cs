namespace Sandbox.Fleet;

/// <summary>One thing readiness depends on: a name and a check that returns null when it is up, else why not.</summary>
internal sealed record ReadinessCheck(string Name, Func<string?> Check);

internal sealed record ReadinessReport(string Status, bool Ready, string[] Reasons, double UptimeSeconds);

/// <summary>
/// Readiness for orchestrators (<c>/readyz</c>, <c>/v1/health</c>): ready only when every check passes and
/// the appliance is not draining. Starting and degraded are told apart by whether it has been ready once;
/// draining starts at SIGTERM and never ends. Time is monotonic (Stopwatch), so a snapshot restore that
/// moves the wall clock changes nothing here.
/// </summary>
internal sealed class Readiness(IReadOnlyList<ReadinessCheck> checks)
{
    private readonly long _started = System.Diagnostics.Stopwatch.GetTimestamp();
    private volatile bool _draining;
    private volatile bool _wasReady;

    public bool Draining => _draining;

    /// <summary>Turns readiness off for good: the process is shutting down.</summary>
    public void Drain() => _draining = true;

    public ReadinessReport Evaluate()
    {
        var reasons = new List<string>();
        if (_draining) reasons.Add("draining: the appliance is shutting down");
        foreach (var c in checks)
        {
            string? why;
            try { why = c.Check(); }
            catch (Exception e) { why = e.Message; }
            if (why is not null) reasons.Add($"{c.Name}: {why}");
        }
        var ready = reasons.Count == 0;
        if (ready) _wasReady = true;
        var status = _draining ? "draining" : ready ? "ready" : _wasReady ? "degraded" : "starting";
        return new ReadinessReport(status, ready, reasons.ToArray(),
            Math.Round(System.Diagnostics.Stopwatch.GetElapsedTime(_started).TotalSeconds, 3));
    }
}
