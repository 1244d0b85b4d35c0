using Sandbox.Common;

namespace Sandbox.OsWorld;

/// <summary>The OSWorld-compatible listener and its limits, from <c>SANDBOX_OSWORLD_*</c> (docs/osworld.md).</summary>
internal sealed class OsWorldOptions
{
    /// <summary>The port of OSWorld's API (OSWorld's harness uses 5000); 0 = no such listener.</summary>
    public int Port { get; init; }
    /// <summary>Listen address; null = <c>HOST</c>.</summary>
    public string? Host { get; init; }
    /// <summary>/execute, /setup/execute and /execute_with_verification: how long a command may run, s (OSWorld: 120).</summary>
    public double ExecuteTimeoutS { get; init; } = 120;
    /// <summary>/run_python: how long the script may run, s (OSWorld: 30).</summary>
    public double RunPythonTimeoutS { get; init; } = 30;
    /// <summary>/run_bash_script: the timeout when the request gives none, s (OSWorld: 100).</summary>
    public double BashTimeoutS { get; init; } = 100;
    /// <summary>/setup/open_file: how long to wait for the opened file's window, s (OSWorld: 1800).</summary>
    public double OpenFileTimeoutS { get; init; } = 1800;
    /// <summary>/setup/download_file: attempts (OSWorld: 3).</summary>
    public int DownloadAttempts { get; init; } = 3;
    /// <summary>/setup/download_file: the time one attempt may take, s (OSWorld: 300).</summary>
    public double DownloadTimeoutS { get; init; } = 300;
    /// <summary>/execute_with_verification: the time a <c>command_success</c> check may take, s (OSWorld: 5).</summary>
    public double VerifyCommandTimeoutS { get; init; } = 5;
    /// <summary>/start_recording: frames per second of the screen video.</summary>
    public int RecordFps { get; init; } = 10;
    /// <summary>The interpreter of /run_python (OSWorld: /usr/bin/python3).</summary>
    public string Python { get; init; } = "/usr/bin/python3";

    public bool Enabled => Port > 0;

    public static OsWorldOptions FromEnvironment(EnvReader r) => new()
    {
        Port = r.Int("SANDBOX_OSWORLD_PORT", 0, 0, 65535),
        Host = r.String("SANDBOX_OSWORLD_HOST"),
        ExecuteTimeoutS = r.Double("SANDBOX_OSWORLD_EXECUTE_TIMEOUT_S", 120, 0.001, 86_400),
        RunPythonTimeoutS = r.Double("SANDBOX_OSWORLD_PYTHON_TIMEOUT_S", 30, 0.001, 86_400),
        BashTimeoutS = r.Double("SANDBOX_OSWORLD_BASH_TIMEOUT_S", 100, 0.001, 86_400),
        OpenFileTimeoutS = r.Double("SANDBOX_OSWORLD_OPEN_TIMEOUT_S", 1800, 0, 86_400),
        DownloadAttempts = r.Int("SANDBOX_OSWORLD_DOWNLOAD_ATTEMPTS", 3, 1, 100),
        DownloadTimeoutS = r.Double("SANDBOX_OSWORLD_DOWNLOAD_TIMEOUT_S", 300, 0.001, 86_400),
        VerifyCommandTimeoutS = r.Double("SANDBOX_OSWORLD_VERIFY_TIMEOUT_S", 5, 0.001, 3600),
        RecordFps = r.Int("SANDBOX_OSWORLD_RECORD_FPS", 10, 1, 60),
        Python = r.Text("SANDBOX_OSWORLD_PYTHON", "/usr/bin/python3"),
    };
}
