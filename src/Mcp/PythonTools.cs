using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Threading.Channels;
using Sandbox.Gateway;

namespace Sandbox.Mcp;

/// <summary>
/// <c>run_python</c>: runs code in an IPython kernel of the gateway's <see cref="KernelManager"/> that belongs to
/// the MCP session (started on first use, state kept between calls, shut down with the session). Output is
/// collected from iopub as a Jupyter client does: stdout/stderr/results as text, <c>image/png</c> display data
/// as image content, an error with its traceback as a tool error. Cancellation interrupts the kernel.
/// </summary>
internal sealed class PythonTools(KernelManager kernels, McpOptions options) : IMcpToolProvider
{
    private const string StateKey = "python";

    public IEnumerable<McpTool> Tools =>
    [
        McpTool.Create("run_python", "Run Python",
            "Runs Python code in an IPython kernel kept for this MCP session (variables and imports persist between calls). " +
            "Returns stdout, stderr and the last expression's value as text, images (matplotlib, IPython.display.Image) as image content, " +
            "and an error with its traceback. Cancelling the call interrupts the code (KeyboardInterrupt).",
            McpToolJson.Default.RunPythonArguments,
            new McpToolAnnotations(ReadOnly: false, Destructive: true, Idempotent: false, OpenWorld: true),
            async (args, call, ct) =>
            {
                if (string.IsNullOrEmpty(args.Code)) throw new McpToolException("invalid arguments: code is required (Python source)");
                var timeout = args.TimeoutSeconds is { } t
                    ? (t > 0 && t <= options.PythonTimeoutSeconds ? TimeSpan.FromSeconds(t)
                        : throw new McpToolException($"invalid arguments: timeout_seconds must be from 0 to {options.PythonTimeoutSeconds} (SANDBOX_MCP_PYTHON_TIMEOUT_S)"))
                    : TimeSpan.FromSeconds(options.PythonTimeoutSeconds);
                var kernel = call.Session.GetOrAdd(StateKey, () => new SessionKernel(kernels, call.Session.Id, options));
                return await kernel.ExecuteAsync(args.Code, timeout, call, ct).ConfigureAwait(false);
            }),
    ];
}

/// <summary>run_python's arguments (the schema is exported from this type).</summary>
internal sealed record RunPythonArguments(
    [property: System.ComponentModel.Description("Python source to run (IPython syntax: %magics and !shell work).")] string Code,
    [property: System.ComponentModel.Description("Interrupt the code after this many seconds (default and maximum: SANDBOX_MCP_PYTHON_TIMEOUT_S).")] double? TimeoutSeconds = null);

[System.Text.Json.Serialization.JsonSourceGenerationOptions(
    PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.SnakeCaseLower,
    UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow,
    RespectRequiredConstructorParameters = true)]
[System.Text.Json.Serialization.JsonSerializable(typeof(RunPythonArguments))]
internal sealed partial class McpToolJson : System.Text.Json.Serialization.JsonSerializerContext;

/// <summary>
/// One session's kernel, attached to its hub as an in-process client (as a WebSocket connection would be).
/// One execution at a time; messages are matched to it by parent msg_id.
/// </summary>
internal sealed partial class SessionKernel(KernelManager kernels, string mcpSession, McpOptions options) : IKernelClient, IAsyncDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private Kernel? _kernel;
    private Channel<WireMessage>? _current;
    private string? _currentId;
    private volatile string? _lost;

    public string SessionId { get; } = "mcp-" + mcpSession;

    // Called on the hub thread: must not block.
    public void Deliver(string channel, WireMessage message)
    {
        if (channel != "iopub" || Volatile.Read(ref _current) is not { } current) return;
        var parent = JupyterWire.ReadString(message.Parent, "msg_id"u8);
        if (parent == Volatile.Read(ref _currentId)) current.Writer.TryWrite(message);
        else if (message.MsgType == "status" && JupyterWire.ReadString(message.Content, "execution_state"u8) is "dead" or "restarting")
        {
            _lost = "the kernel died or was restarted while running this code (its state is lost)";
            current.Writer.TryComplete();
        }
    }

    public void Evict(string reason)
    {
        _lost = "the kernel went away: " + reason;
        Volatile.Read(ref _current)?.Writer.TryComplete();
    }

    private async Task<Kernel> EnsureKernelAsync(CancellationToken ct)
    {
        if (_kernel is { IsAlive: true } k && _lost is null) return k;
        if (_kernel is { } old)
        {
            try { old.Hub.Detach(this); } catch (ObjectDisposedException) { }
            _ = kernels.ShutdownKernelAsync(old.Id);
            _kernel = null;
        }
        _lost = null;
        Kernel kernel;
        try { kernel = await kernels.StartKernelAsync(null, null, null).WaitAsync(ct).ConfigureAwait(false); }
        catch (ResourceLimitException) { throw new McpToolException("no kernel available: the gateway's kernel limit (KG_MAX_KERNELS) is reached"); }
        catch (Exception e) when (e is not OperationCanceledException) { throw new McpToolException($"could not start a Python kernel: {e.Message}"); }
        _kernel = kernel;
        if (!await kernel.WaitReadyAsync(TimeSpan.FromSeconds(60), ct).ConfigureAwait(false))
            throw new McpToolException("the Python kernel did not become ready within 60 s");
        await kernel.Hub.AttachAsync(this).ConfigureAwait(false);
        return kernel;
    }

    public async Task<McpToolResult> ExecuteAsync(string code, TimeSpan timeout, McpToolCall call, CancellationToken ct)
    {
        await _gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var kernel = await EnsureKernelAsync(ct).ConfigureAwait(false);
            var msgId = Guid.NewGuid().ToString("N");
            var channel = Channel.CreateUnbounded<WireMessage>(new UnboundedChannelOptions { SingleReader = true });
            Volatile.Write(ref _currentId, msgId);
            Volatile.Write(ref _current, channel);
            try
            {
                kernel.Hub.Send(this, "shell", JupyterWire.NewMessage("execute_request", SessionId, ExecuteContent(code), msgId: msgId));
                return await CollectAsync(kernel, channel.Reader, timeout, call, ct).ConfigureAwait(false);
            }
            finally
            {
                Volatile.Write(ref _current, null);
                Volatile.Write(ref _currentId, null);
            }
        }
        finally { _gate.Release(); }
    }

    private async Task<McpToolResult> CollectAsync(Kernel kernel, ChannelReader<WireMessage> reader, TimeSpan timeout, McpToolCall call, CancellationToken ct)
    {
        var output = new Output(options.MaxTextChars);
        var images = new List<McpContent>();
        string? error = null;
        var messages = 0;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(timeout);
        var interrupted = false;
        while (true)
        {
            WireMessage m;
            try
            {
                if (!await reader.WaitToReadAsync(deadline.Token).ConfigureAwait(false))
                    throw new McpToolException((_lost ?? "the kernel went away") + Tail(output));
                if (!reader.TryRead(out m!)) continue;
            }
            catch (OperationCanceledException) when (!interrupted)
            {
                // Cancelled by the client or out of time: interrupt, then wait (bounded) for the kernel to go idle
                // so the next call finds it free; the state is kept.
                interrupted = true;
                await kernel.InterruptAsync().ConfigureAwait(false);
                deadline.Dispose();
                using var settle = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                try
                {
                    while (await reader.WaitToReadAsync(settle.Token).ConfigureAwait(false))
                        while (reader.TryRead(out var late))
                            if (late.MsgType == "status" && JupyterWire.ReadString(late.Content, "execution_state"u8) == "idle") goto settled;
                }
                catch (OperationCanceledException) { }
                settled:
                ct.ThrowIfCancellationRequested();
                return McpToolResult.Error($"timed out after {timeout.TotalSeconds:0.###} s: the code was interrupted (KeyboardInterrupt); the session's state is kept" + Tail(output));
            }

            messages++;
            using var content = JsonDocument.Parse(m.Content);
            var c = content.RootElement;
            switch (m.MsgType)
            {
                case "status":
                    if (c.TryGetProperty("execution_state", out var st) && st.ValueEquals("idle"u8)) return Finish(output, images, error);
                    break;
                case "stream":
                    var text = c.TryGetProperty("text", out var t) ? t.GetString() ?? "" : "";
                    if (c.TryGetProperty("name", out var n) && n.ValueEquals("stderr"u8)) output.Stderr(text); else output.Stdout(text);
                    await call.ReportProgressAsync(messages, null, Clip(text)).ConfigureAwait(false);
                    break;
                case "execute_result":
                case "display_data":
                    if (c.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Object)
                    {
                        if (data.TryGetProperty("image/png", out var png) && png.ValueKind == JsonValueKind.String)
                            images.Add(new McpImageBase64(png.GetString()!.Replace("\n", "", StringComparison.Ordinal), "image/png"));
                        else if (data.TryGetProperty("image/jpeg", out var jpg) && jpg.ValueKind == JsonValueKind.String)
                            images.Add(new McpImageBase64(jpg.GetString()!.Replace("\n", "", StringComparison.Ordinal), "image/jpeg"));
                        else if (data.TryGetProperty("text/plain", out var plain) && plain.ValueKind == JsonValueKind.String)
                            output.Result(plain.GetString()!);
                    }
                    await call.ReportProgressAsync(messages, null, m.MsgType).ConfigureAwait(false);
                    break;
                case "error":
                    var sb = new StringBuilder();
                    if (c.TryGetProperty("traceback", out var tb) && tb.ValueKind == JsonValueKind.Array)
                        foreach (var line in tb.EnumerateArray()) sb.Append(Ansi().Replace(line.GetString() ?? "", "")).Append('\n');
                    if (sb.Length == 0)
                        sb.Append(c.TryGetProperty("ename", out var en) ? en.GetString() : "Error").Append(": ")
                          .Append(c.TryGetProperty("evalue", out var ev) ? ev.GetString() : "");
                    error = sb.ToString().TrimEnd();
                    break;
            }
        }
    }

    private static McpToolResult Finish(Output output, List<McpContent> images, string? error)
    {
        var result = new McpToolResult { IsError = error is not null };
        var text = output.ToString();
        if (error is not null) text = (text.Length > 0 ? text + "\n" : "") + error;
        result.Add(new McpText(text.Length > 0 ? text : images.Count > 0 ? "(image output)" : "(no output)"));
        foreach (var i in images) result.Add(i);
        return result;
    }

    private static string Tail(Output output)
    {
        var s = output.ToString();
        return s.Length == 0 ? "" : "\noutput so far:\n" + s;
    }

    private static string Clip(string s) => s.Length <= 200 ? s : s[..200];

    private static byte[] ExecuteContent(string code)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(code.Length + 160);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("code"u8, code);
            w.WriteBoolean("silent"u8, false);
            w.WriteBoolean("store_history"u8, true);
            w.WriteStartObject("user_expressions"u8);
            w.WriteEndObject();
            w.WriteBoolean("allow_stdin"u8, false);
            w.WriteBoolean("stop_on_error"u8, true);
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    [GeneratedRegex(@"\x1b\[[0-9;]*[A-Za-z]")]
    private static partial Regex Ansi();

    public async ValueTask DisposeAsync()
    {
        Volatile.Read(ref _current)?.Writer.TryComplete();
        if (_kernel is { } k)
        {
            try { k.Hub.Detach(this); } catch (ObjectDisposedException) { }
            try { await kernels.ShutdownKernelAsync(k.Id).ConfigureAwait(false); } catch (Exception) { /* going anyway */ }
        }
    }

    /// <summary>stdout, stderr and results in arrival order, bounded by SANDBOX_MCP_MAX_TEXT_CHARS.</summary>
    private sealed class Output(int max)
    {
        private readonly StringBuilder _text = new();
        private string? _last;
        private bool _cut;

        public void Stdout(string s) => Append(null, s);
        public void Stderr(string s) => Append("[stderr] ", s);
        public void Result(string s) => Append("Out: ", s.EndsWith('\n') ? s : s + "\n");

        private void Append(string? label, string s)
        {
            if (_cut) return;
            if (label != _last && label is not null)
            {
                if (_text.Length > 0 && _text[^1] != '\n') _text.Append('\n');
                _text.Append(label);
            }
            else if (label is null && _last is not null && _text.Length > 0 && _text[^1] != '\n') _text.Append('\n');
            _last = label;
            if (_text.Length + s.Length > max)
            {
                _text.Append(s.AsSpan(0, Math.Max(0, max - _text.Length))).Append($"\n[output cut at {max} characters (SANDBOX_MCP_MAX_TEXT_CHARS)]");
                _cut = true;
                return;
            }
            _text.Append(s);
        }

        public override string ToString() => _text.ToString().TrimEnd('\n');
    }
}
