using System.Text;
using System.Text.Json;
using Sandbox.Processes;

namespace Sandbox.Mcp;

/// <summary>
/// The <c>run_command</c> tool over <see cref="ProcessService.RunAsync"/>: the arguments are the body of
/// <c>POST /process/run</c> (same contract type, same limits), the answer its result. Progress is reported
/// every second while the command runs; cancelling the call kills the command's process group, as a
/// dropped REST request does.
/// </summary>
internal sealed class ProcessTools(ProcessService processes) : IMcpToolProvider
{
    public IEnumerable<McpTool> Tools =>
    [
        McpTool.Create("run_command", "Run a command",
            "Runs a command in the VM to its end and returns its exit code, stdout and stderr: `command` through the shell " +
            "(bash -c), or `argv` as is; optional cwd, env, stdin, timeout_s, max_output_bytes. Output that is not UTF-8 comes as base64.",
            ProcessesJson.Default.RunRequest,
            new McpToolAnnotations(ReadOnly: false, Destructive: true, Idempotent: false, OpenWorld: true),
            RunAsync),
    ];

    private async ValueTask<McpToolResult> RunAsync(RunRequest request, McpToolCall call, CancellationToken ct)
    {
        if (request.Tag is not null) throw new McpToolException("tag: only for background processes (POST /process/start)");
        var run = processes.RunAsync(request, ct);
        var seconds = 0;
        while (await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(1), ct)).ConfigureAwait(false) != run)
        {
            if (ct.IsCancellationRequested) break;
            seconds++;
            await call.ReportProgressAsync(seconds, null, $"running for {seconds} s").ConfigureAwait(false);
        }
        var result = await run.ConfigureAwait(false);
        return McpToolResult.Text(Describe(result));
    }

    /// <summary>A summary line, then stdout and stderr as sections, then the REST answer as JSON.</summary>
    private static string Describe(RunResult r)
    {
        var sb = new StringBuilder();
        sb.Append(r.TimedOut ? "timed out" : r.Signal is { } s ? $"killed by signal {s}" : $"exit code {r.ExitCode}");
        if (r.Truncated) sb.Append(" (output truncated)");
        sb.Append('\n');
        if (r.Stdout.Length > 0) sb.Append("--- stdout").Append(r.StdoutEncoding == "utf-8" ? "" : " (" + r.StdoutEncoding + ")").Append(" ---\n").Append(r.Stdout).Append('\n');
        if (r.Stderr.Length > 0) sb.Append("--- stderr").Append(r.StderrEncoding == "utf-8" ? "" : " (" + r.StderrEncoding + ")").Append(" ---\n").Append(r.Stderr).Append('\n');
        sb.Append("--- result ---\n").Append(JsonSerializer.Serialize(r, ProcessesJson.Default.RunResult));
        return sb.ToString();
    }
}
