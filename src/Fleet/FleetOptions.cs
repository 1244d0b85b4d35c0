using Sandbox.Common;

namespace Sandbox.Fleet;

/// <summary>
/// Settings of the fleet area (probes, <c>/init</c>, PID 1 duty, container sizing): <c>SANDBOX_FLEET_*</c>,
/// documented in docs/fleets.md.
/// </summary>
internal sealed class FleetOptions
{
    /// <summary>Reap orphaned processes: <c>auto</c> (only as PID 1), <c>on</c> (also as a child subreaper), <c>off</c>.</summary>
    public ReapMode Reap { get; init; } = ReapMode.Auto;

    /// <summary>How often the reaper looks for zombie children nobody waits for, milliseconds.</summary>
    public int ReapIntervalMs { get; init; } = 1000;

    /// <summary>Whether <c>/readyz</c> waits for the kernel pool's first kernel (when a pool is configured).</summary>
    public bool ReadyNeedsKernel { get; init; } = true;

    /// <summary>Largest number of variables one <c>/init</c> may set.</summary>
    public int InitMaxEnv { get; init; } = 256;

    /// <summary>Largest total size of the names and values <c>/init</c> may set, bytes.</summary>
    public int InitMaxEnvBytes { get; init; } = 256 * 1024;

    /// <summary>Root of the cgroup file system read for container limits.</summary>
    public string CgroupRoot { get; init; } = "/sys/fs/cgroup";

    public static FleetOptions FromEnvironment(EnvReader r)
    {
        var reap = r.String("SANDBOX_FLEET_REAP")?.Trim().ToLowerInvariant();
        var mode = reap switch
        {
            null or "auto" => ReapMode.Auto,
            "on" or "true" or "1" => ReapMode.On,
            "off" or "false" or "0" => ReapMode.Off,
            _ => Fail(r, $"SANDBOX_FLEET_REAP={reap}: expected auto, on or off"),
        };
        return new FleetOptions
        {
            Reap = mode,
            ReapIntervalMs = r.Int("SANDBOX_FLEET_REAP_INTERVAL_MS", 1000, 50, 60_000),
            ReadyNeedsKernel = r.Bool("SANDBOX_FLEET_READY_NEEDS_KERNEL", true),
            InitMaxEnv = r.Int("SANDBOX_FLEET_INIT_MAX_ENV", 256, 0, 100_000),
            InitMaxEnvBytes = r.Int("SANDBOX_FLEET_INIT_MAX_ENV_BYTES", 256 * 1024, 0, 64 << 20),
            CgroupRoot = r.String("SANDBOX_FLEET_CGROUP_ROOT") ?? "/sys/fs/cgroup",
        };
    }

    private static ReapMode Fail(EnvReader r, string message)
    {
        r.Fail(message);
        return ReapMode.Auto;
    }
}

internal enum ReapMode { Auto, On, Off }
