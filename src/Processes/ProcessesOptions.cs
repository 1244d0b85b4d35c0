using Sandbox.Common;

namespace Sandbox.Processes;

/// <summary>Limits and defaults of /process, from <c>SANDBOX_PROCESS_*</c> (docs/processes.md).</summary>
internal sealed class ProcessesOptions
{
    /// <summary>The shell for <c>"shell": true</c> commands (run as <c>shell -c command</c>).</summary>
    public string Shell { get; init; } = File.Exists("/bin/bash") ? "/bin/bash" : "/bin/sh";
    /// <summary>Timeout of a /process/run when the request names none, seconds (OSWorld's default).</summary>
    public double DefaultTimeoutS { get; init; } = 120;
    /// <summary>The longest timeout a request may ask for, seconds.</summary>
    public double MaxTimeoutS { get; init; } = 86_400;
    /// <summary>Largest stdout (and, separately, stderr) a /process/run returns; more is counted and dropped.</summary>
    public int MaxOutputBytes { get; init; } = 16 << 20;
    /// <summary>Commands running at once (runs and background processes); one more is 503.</summary>
    public int MaxConcurrent { get; init; } = 64;
    /// <summary>After a command exits, how long its output pipes are read for what its leftover children
    /// (a background <c>cmd &amp;</c> keeping the pipe open) still write, ms.</summary>
    public int DrainMs { get; init; } = 200;
    /// <summary>Commands die with the appliance however it dies: their groups are listed with a guardian
    /// process (<see cref="Guardian"/>), or, when it cannot start, each is wrapped in <c>setpriv --pdeathsig KILL</c>.</summary>
    public bool DieWithAppliance { get; init; } = true;
    /// <summary>The POSIX shell the guardian runs in.</summary>
    public string GuardianShell { get; init; } = "/bin/sh";
    /// <summary>How long a run's own request thread first waits for the command in place (poll on its pipes,
    /// then waitpid), ms, before handing over to asynchronous reads and the reaper: a short command then
    /// answers without a single thread switch. At most as many runs as there are CPUs wait so at once. 0: never.</summary>
    public int InlineWaitMs { get; init; } = 10;
    /// <summary>Per background process, the output kept for replay to reconnecting clients, bytes.</summary>
    public int ReplayBufferBytes { get; init; } = 1 << 20;
    /// <summary>Background processes kept after they exit (for their exit code and output); oldest dropped first.</summary>
    public int KeepExited { get; init; } = 100;
    /// <summary>TERM of a PTY process unless the request's env sets one.</summary>
    public string Term { get; init; } = "xterm-256color";

    public static ProcessesOptions FromEnvironment(EnvReader r)
    {
        var o = new ProcessesOptions();
        return new ProcessesOptions
        {
            Shell = r.String("SANDBOX_PROCESS_SHELL") ?? o.Shell,
            DefaultTimeoutS = r.Double("SANDBOX_PROCESS_TIMEOUT_S", 120, 0.001, 31_536_000),
            MaxTimeoutS = r.Double("SANDBOX_PROCESS_MAX_TIMEOUT_S", 86_400, 0.001, 31_536_000),
            MaxOutputBytes = r.Int("SANDBOX_PROCESS_MAX_OUTPUT_BYTES", 16 << 20, 0, 1 << 30),
            MaxConcurrent = r.Int("SANDBOX_PROCESS_MAX_CONCURRENT", 64, 1, 100_000),
            DrainMs = r.Int("SANDBOX_PROCESS_DRAIN_MS", 200, 0, 600_000),
            DieWithAppliance = r.Bool("SANDBOX_PROCESS_PDEATHSIG", true),
            InlineWaitMs = r.Int("SANDBOX_PROCESS_INLINE_WAIT_MS", 10, 0, 1000),
            GuardianShell = r.String("SANDBOX_PROCESS_GUARDIAN_SHELL") ?? "/bin/sh",
            ReplayBufferBytes = r.Int("SANDBOX_PROCESS_REPLAY_BYTES", 1 << 20, 1024, 1 << 30),
            KeepExited = r.Int("SANDBOX_PROCESS_KEEP_EXITED", 100, 0, 100_000),
            Term = r.String("SANDBOX_PROCESS_TERM") ?? "xterm-256color",
        };
    }
}
