using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Sandbox.Accessibility;
using Sandbox.Capture;
using Sandbox.Common;
using Sandbox.Desktop;
using Sandbox.Files;
using Sandbox.Processes;
using Sandbox.Recording;
using Sandbox.Web;

namespace Sandbox.OsWorld;

/// <summary>
/// OSWorld's in-VM server contract (the routes its <c>PythonController</c> and <c>SetupController</c> call) over
/// the appliance's areas. It only translates: requests into area calls, answers (and failures) into the
/// JSON keys, status codes, plain-text bodies and file responses OSWorld's Flask server gives. Steps that act
/// for the agent are reported to the step journal while a recording runs.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
internal sealed partial class OsWorldAdapter(
    OsWorldOptions options,
    ScreenshotService screenshots,
    AccessibilityService accessibility,
    ProcessService processes,
    FileService files,
    DesktopService desktop,
    WaitService waits,
    AppLauncher apps,
    Recorder recorder,
    IStepJournal journal,
    string sharedDir,
    ILogger log) : IDisposable
{
    /// <summary>Flask's type for a view that returns a string.</summary>
    private const string Html = "text/html; charset=utf-8";
    private const string Sh = "/bin/sh";

    private readonly HttpClient _http = new(new SocketsHttpHandler { AutomaticDecompression = System.Net.DecompressionMethods.All })
    {
        Timeout = Timeout.InfiniteTimeSpan,
    };
    private string? _lastVideo;

    public OsWorldOptions Options => options;

    // ---- answers ----

    internal static IResult Text(string body, int status = 200) => Results.Text(body, Html, Encoding.UTF8, status);

    private static IResult Json<T>(T value, JsonTypeInfo<T> type, int status = 200) => Results.Json(value, type, statusCode: status);

    private static async Task<T> ReadAsync<T>(HttpContext http, JsonTypeInfo<T> type) where T : class =>
        (await JsonBody.ReadAsync(http.Request, type, ct: http.RequestAborted))!;

    /// <summary>Reports a step that acted for the agent (trajectories) while a recording runs.</summary>
    private async Task JournalAsync<TReq, TRes>(string route, TReq request, JsonTypeInfo<TReq> requestType, TRes result, JsonTypeInfo<TRes> resultType,
        CancellationToken ct)
    {
        if (!journal.Active) return;
        try
        {
            var action = JsonSerializer.Serialize(new StepAction(route, JsonSerializer.SerializeToElement(request, requestType)), OsWorldJson.Default.StepAction);
            await journal.AddAsync("osworld", action, JsonSerializer.Serialize(result, resultType), ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            log.LogWarning("osworld: the step of {Route} was not journaled: {Message}", route, e.Message);
        }
    }

    // ---- commands ----

    /// <summary>What OSWorld's server execs for <c>command</c> and <c>shell</c>: a list (each <c>~/</c> argument
    /// expanded) or a shlex-split string as is; with <c>shell</c>, <c>/bin/sh -c</c> with the string (or the list's
    /// first item, the rest as its <c>$0</c>...), as Python's <c>subprocess</c> does.</summary>
    internal static List<string> Argv(CommandRequest r)
    {
        var shell = r.Shell ?? false;
        List<string> words;
        switch (r.Command)
        {
            case null or { ValueKind: JsonValueKind.Null }:
                if (shell) return [Sh, "-c", ""];
                throw SandboxException.BadField("command", "required: a list of arguments or a command string");
            case { ValueKind: JsonValueKind.String } s:
                if (shell) return [Sh, "-c", s.GetString()!];
                words = ShellWords.Split(s.GetString()!, "command");
                break;
            case { ValueKind: JsonValueKind.Array } a:
                words = [];
                foreach (var item in a.EnumerateArray())
                {
                    if (item.ValueKind != JsonValueKind.String) throw SandboxException.BadField("command", "every argument must be a string");
                    words.Add(item.GetString()!);
                }
                break;
            default:
                throw SandboxException.BadField("command", "must be a list of arguments or a command string");
        }
        if (words.Count == 0 || words[0].Length == 0) throw SandboxException.BadField("command", "is empty");
        if (words.Any(w => w.Contains('\0'))) throw SandboxException.BadField("command", "cannot contain NUL");
        for (var i = 0; i < words.Count; i++) words[i] = ShellWords.ExpandHome(words[i]);
        return shell ? [Sh, "-c", .. words] : words;
    }

    /// <summary>Runs to the end; a program that cannot be started is a failure message (OSWorld's 500), not a 400.</summary>
    private async Task<(RunResult? Result, string? Failure)> RunAsync(List<string> argv, double timeoutS, string? cwd, CancellationToken ct)
    {
        try
        {
            return (await processes.RunAsync(new RunRequest { Argv = argv, TimeoutS = timeoutS, Cwd = cwd }, ct), null);
        }
        catch (SandboxException e) when (e.Kind == ErrorKind.BadRequest && e.Field is "argv" or "command")
        {
            return (null, e.Message.StartsWith("argv: ", StringComparison.Ordinal) ? e.Message[6..] : e.Message);
        }
    }

    private static string Out(RunResult r) => Decode(r.Stdout, r.StdoutEncoding);
    private static string Err(RunResult r) => Decode(r.Stderr, r.StderrEncoding);
    private static string Decode(string s, string encoding) =>
        encoding == OutputText.Base64Name ? Encoding.UTF8.GetString(Convert.FromBase64String(s)) : s;
    private static int Code(RunResult r) => r.ExitCode ?? -(r.Signal ?? 0);

    private static string Seconds(double s) => s == Math.Floor(s) ? ((long)s).ToString(CultureInfo.InvariantCulture) : s.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>POST /execute and /setup/execute.</summary>
    public async Task<IResult> ExecuteAsync(HttpContext http, string route)
    {
        var request = await ReadAsync(http, OsWorldJson.Default.CommandRequest);
        var argv = Argv(request);
        var (r, failure) = await RunAsync(argv, options.ExecuteTimeoutS, null, http.RequestAborted);
        if (r is null || r.TimedOut)
        {
            var error = new StatusMessage("error", failure ?? TimedOutMessage(argv));
            await JournalAsync(route, request, OsWorldJson.Default.CommandRequest, error, OsWorldJson.Default.StatusMessage, http.RequestAborted);
            return Json(error, OsWorldJson.Default.StatusMessage, 500);
        }
        var answer = new CommandAnswer("success", Out(r), Err(r), Code(r));
        await JournalAsync(route, request, OsWorldJson.Default.CommandRequest, answer, OsWorldJson.Default.CommandAnswer, http.RequestAborted);
        return Json(answer, OsWorldJson.Default.CommandAnswer);
    }

    private string TimedOutMessage(List<string> argv) =>
        $"Command '{PyRepr(argv)}' timed out after {Seconds(options.ExecuteTimeoutS)} seconds";

    /// <summary>POST /execute_with_verification and /setup/execute_with_verification.</summary>
    public async Task<IResult> ExecuteVerifiedAsync(HttpContext http, string route)
    {
        var request = await ReadAsync(http, OsWorldJson.Default.CommandRequest);
        var argv = Argv(request);
        var maxWait = request.MaxWaitTime ?? 10;
        var interval = request.CheckInterval ?? 1;
        if (double.IsNaN(maxWait) || maxWait < 0 || maxWait > 86_400) throw SandboxException.BadField("max_wait_time", "seconds, 0 to 86400");
        if (double.IsNaN(interval) || interval < 0 || interval > 3600) throw SandboxException.BadField("check_interval", "seconds, 0 to 3600");
        var ct = http.RequestAborted;
        var (r, failure) = await RunAsync(argv, options.ExecuteTimeoutS, null, ct);
        if (r is null || r.TimedOut)
        {
            var error = new StatusMessage("error", failure ?? TimedOutMessage(argv));
            await JournalAsync(route, request, OsWorldJson.Default.CommandRequest, error, OsWorldJson.Default.StatusMessage, ct);
            return Json(error, OsWorldJson.Default.StatusMessage, 500);
        }
        var v = request.Verification;
        if (v is null || (v.WindowExists is null && v.CommandSuccess is null))
        {
            var plain = new CommandAnswer("success", Out(r), Err(r), Code(r));
            await JournalAsync(route, request, OsWorldJson.Default.CommandRequest, plain, OsWorldJson.Default.CommandAnswer, ct);
            return Json(plain, OsWorldJson.Default.CommandAnswer);
        }
        var clock = Stopwatch.StartNew();
        VerifiedAnswer answer;
        while (true)
        {
            if (clock.Elapsed.TotalSeconds >= maxWait)
            {
                answer = new VerifiedAnswer("verification_failed", Out(r), Err(r), Code(r), "failed", maxWait);
                break;
            }
            var passed = true;
            if (v.WindowExists is { } title)
            {
                // OSWorld looks for the name in `wmctrl -l`, case-insensitively.
                try { passed = desktop.List().Windows.Any(w => w.Title?.Contains(title, StringComparison.OrdinalIgnoreCase) == true); }
                catch (SandboxException) { passed = false; }
            }
            if (passed && v.CommandSuccess is { } check)
            {
                var (c, _) = await RunAsync([Sh, "-c", check], options.VerifyCommandTimeoutS, null, ct);
                passed = c is { TimedOut: false, ExitCode: 0 };
            }
            if (passed)
            {
                answer = new VerifiedAnswer("success", Out(r), Err(r), Code(r), "passed", clock.Elapsed.TotalSeconds);
                break;
            }
            await Task.Delay(TimeSpan.FromSeconds(Math.Max(interval, 0.01)), ct);
        }
        await JournalAsync(route, request, OsWorldJson.Default.CommandRequest, answer, OsWorldJson.Default.VerifiedAnswer, ct);
        return Json(answer, OsWorldJson.Default.VerifiedAnswer, answer.Verification == "passed" ? 200 : 500);
    }

    /// <summary>POST /setup/launch: started detached (its own process group, reaped by the appliance).</summary>
    public async Task<IResult> LaunchAsync(HttpContext http)
    {
        const string route = "/setup/launch";
        var request = await ReadAsync(http, OsWorldJson.Default.CommandRequest);
        var argv = Argv(request);
        var shell = request.Shell ?? false;
        if (!shell && System.Runtime.InteropServices.RuntimeInformation.OSArchitecture is System.Runtime.InteropServices.Architecture.Arm64
            && argv.IndexOf("google-chrome") is var chrome and >= 0)
            argv[chrome] = "chromium"; // as OSWorld: no Chrome for arm64
        try
        {
            await apps.LaunchAsync(new LaunchRequest(null, [.. argv], null, null, null), http.RequestAborted);
        }
        catch (SandboxException e) when (e.Kind is ErrorKind.NotFound or ErrorKind.BadRequest)
        {
            var error = new StatusMessage("error", e.Message);
            await JournalAsync(route, request, OsWorldJson.Default.CommandRequest, error, OsWorldJson.Default.StatusMessage, http.RequestAborted);
            return Json(error, OsWorldJson.Default.StatusMessage, 500);
        }
        // OSWorld formats the command as given: the string (or the list's repr) with a shell, else joined by spaces.
        var shown = shell
            ? request.Command is { ValueKind: JsonValueKind.String } s ? s.GetString()! : PyRepr(argv.Skip(2).ToList())
            : string.Join(' ', argv);
        var text = $"{shown} launched successfully";
        await JournalAsync(route, request, OsWorldJson.Default.CommandRequest, text, OsWorldJson.Default.String, http.RequestAborted);
        return Text(text);
    }

    /// <summary>POST /run_python: the code in a private temporary file run by /usr/bin/python3 (30 s).</summary>
    public async Task<IResult> RunPythonAsync(HttpContext http)
    {
        const string route = "/run_python";
        var request = await ReadAsync(http, OsWorldJson.Default.CodeRequest);
        if (string.IsNullOrEmpty(request.Code))
            return Json(new StatusMessage("error", "Code not supplied!"), OsWorldJson.Default.StatusMessage, 400);
        var file = Path.Combine(Path.GetTempPath(), $"python_exec_{Guid.NewGuid():N}.py");
        PythonAnswer answer;
        int status;
        try
        {
            await WritePrivateAsync(file, request.Code, http.RequestAborted);
            var (r, failure) = await RunAsync([options.Python, file], options.RunPythonTimeoutS, null, http.RequestAborted);
            if (r is null)
            {
                (answer, status) = (new PythonAnswer("error", $"Execution error: {failure}", false, null, failure, null), 500);
            }
            else if (r.TimedOut)
            {
                (answer, status) = (new PythonAnswer("error", "Execution timeout: Code took too long to execute", false, null, "TimeoutExpired", null), 500);
            }
            else
            {
                var output = Out(r);
                var error = Err(r);
                var code = Code(r);
                var message = error.Length == 0 ? output : output.Length > 0 ? output + "\n" + error : error;
                if (code != 0 && error.Length == 0)
                {
                    error = $"Process exited with code {code}";
                    message = message.Length > 0 ? message + "\n" + error : error;
                }
                (answer, status) = (new PythonAnswer(code == 0 ? "success" : "error", message, false, output, error, code), 200);
            }
        }
        finally
        {
            TryDelete(file);
        }
        await JournalAsync(route, request, OsWorldJson.Default.CodeRequest, answer, OsWorldJson.Default.PythonAnswer, http.RequestAborted);
        return Json(answer, OsWorldJson.Default.PythonAnswer, status);
    }

    /// <summary>POST /run_bash_script: the script (a <c>#!/bin/bash</c> line added when absent) run by bash with
    /// stderr merged into stdout, in <c>working_dir</c>, within <c>timeout</c> seconds (100 by default).</summary>
    public async Task<IResult> RunBashAsync(HttpContext http)
    {
        const string route = "/run_bash_script";
        var request = await ReadAsync(http, OsWorldJson.Default.ScriptRequest);
        if (string.IsNullOrEmpty(request.Script))
            return Json(new ScriptAnswer("error", "Script not supplied!", "", -1), OsWorldJson.Default.ScriptAnswer, 400);
        var timeout = request.Timeout ?? options.BashTimeoutS;
        if (double.IsNaN(timeout) || timeout <= 0 || timeout > processes.Options.MaxTimeoutS)
            throw SandboxException.BadField("timeout", $"seconds, more than 0 and at most {processes.Options.MaxTimeoutS}");
        string? cwd = null;
        if (!string.IsNullOrEmpty(request.WorkingDir))
        {
            cwd = ShellWords.ExpandPath(request.WorkingDir);
            if (!Directory.Exists(cwd))
                return Json(new ScriptAnswer("error", $"Working directory does not exist: {cwd}", "", -1), OsWorldJson.Default.ScriptAnswer, 400);
        }
        var script = request.Script.Contains("#!/bin/bash", StringComparison.Ordinal) ? request.Script : "#!/bin/bash\n\n" + request.Script;
        var file = Path.Combine(Path.GetTempPath(), $"osworld_script_{Guid.NewGuid():N}.sh");
        ScriptAnswer answer;
        int status;
        try
        {
            await WritePrivateAsync(file, script, http.RequestAborted);
            // One pipe for both streams, in order, as subprocess's stderr=STDOUT.
            var (r, failure) = await RunAsync([Sh, "-c", "exec /bin/bash \"$1\" 2>&1", "sh", file], timeout, cwd, http.RequestAborted);
            if (r is null)
                (answer, status) = (new ScriptAnswer("error", $"Failed to execute script: {failure}", "", -1), 500);
            else if (r.TimedOut)
                (answer, status) = (new ScriptAnswer("error", $"Script execution timed out after {Seconds(timeout)} seconds", "", -1), 500);
            else
                (answer, status) = (new ScriptAnswer(Code(r) == 0 ? "success" : "error", Out(r), "", Code(r)), 200);
        }
        finally
        {
            TryDelete(file);
        }
        await JournalAsync(route, request, OsWorldJson.Default.ScriptRequest, answer, OsWorldJson.Default.ScriptAnswer, http.RequestAborted);
        return Json(answer, OsWorldJson.Default.ScriptAnswer, status);
    }

    private static async Task WritePrivateAsync(string path, string text, CancellationToken ct)
    {
        await using var f = new FileStream(path, new FileStreamOptions
        {
            Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        });
        await f.WriteAsync(Encoding.UTF8.GetBytes(text), ct);
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    /// <summary>A list of strings as Python's repr writes it, for the messages OSWorld's server builds from one.</summary>
    internal static string PyRepr(IReadOnlyList<string> items)
    {
        var sb = new StringBuilder("[");
        for (var i = 0; i < items.Count; i++)
        {
            if (i > 0) sb.Append(", ");
            var s = items[i];
            var quote = s.Contains('\'') && !s.Contains('"') ? '"' : '\'';
            sb.Append(quote);
            foreach (var c in s)
            {
                if (c == '\\') sb.Append("\\\\");
                else if (c == quote) sb.Append('\\').Append(c);
                else if (c == '\n') sb.Append("\\n");
                else if (c == '\t') sb.Append("\\t");
                else if (c == '\r') sb.Append("\\r");
                else sb.Append(c);
            }
            sb.Append(quote);
        }
        return sb.Append(']').ToString();
    }

    public void Dispose() => _http.Dispose();
}
