using System.Diagnostics;

namespace Sandbox.Gateway;

/// <summary>What the limiter decided for one iopub message.</summary>
internal enum RateDecision
{
    Send,
    Drop,
    /// <summary>Drop it, and tell clients (once) that output is being withheld.</summary>
    DropAndWarn,
}

/// <summary>
/// jupyter_server's iopub rate limiting, per kernel: messages and stream bytes are counted over a
/// sliding window; past a limit output is withheld (with one stderr notice) until the rate falls to
/// 80 % of it, and everything resets when the kernel goes idle. Status, comm_open and execute_input
/// are never counted. A flood of prints therefore cannot grow the gateway's queues without bound.
/// Not thread-safe: used on the kernel's ZMQ thread only.
/// </summary>
internal sealed class IopubRateLimiter(GatewayOptions options, Func<long>? clock = null)
{
    private readonly Func<long> _clock = clock ?? Stopwatch.GetTimestamp;
    private readonly Queue<(long Expires, long Bytes)> _window = new();
    private long _msgCount, _byteCount;
    private bool _msgsExceeded, _dataExceeded;

    public bool Withholding => _msgsExceeded || _dataExceeded;

    public string? LastWarning { get; private set; }

    public RateDecision Check(string msgType, WireMessage m, string? executionState)
    {
        if (!options.LimitRate) return RateDecision.Send;
        if (msgType == "status" && executionState == "idle")
        {
            _window.Clear();
            _msgCount = _byteCount = 0;
            _msgsExceeded = _dataExceeded = false;
        }
        if (msgType is "status" or "comm_open" or "execute_input") return RateDecision.Send;

        var now = _clock();
        while (_window.Count > 0 && now >= _window.Peek().Expires)
        {
            var (_, bytes) = _window.Dequeue();
            _byteCount -= bytes;
            _msgCount--;
        }
        var byteCount = msgType == "stream" ? m.Size : 0;
        _msgCount++;
        _byteCount += byteCount;

        var msgRate = _msgCount / options.RateLimitWindowSeconds;
        var dataRate = _byteCount / options.RateLimitWindowSeconds;
        var warn = false;

        if (options.IopubMsgRateLimit > 0 && msgRate > options.IopubMsgRateLimit)
        {
            if (!_msgsExceeded)
            {
                _msgsExceeded = true;
                warn = true;
                LastWarning = Notice("message", "KG_IOPUB_MSG_RATE_LIMIT", options.IopubMsgRateLimit, "msgs/sec");
            }
        }
        else if (_msgsExceeded && msgRate < 0.8 * options.IopubMsgRateLimit)
        {
            _msgsExceeded = false;
        }

        if (options.IopubDataRateLimit > 0 && dataRate > options.IopubDataRateLimit)
        {
            if (!_dataExceeded)
            {
                _dataExceeded = true;
                warn = true;
                LastWarning = Notice("data", "KG_IOPUB_DATA_RATE_LIMIT", options.IopubDataRateLimit, "bytes/sec");
            }
        }
        else if (_dataExceeded && dataRate < 0.8 * options.IopubDataRateLimit)
        {
            _dataExceeded = false;
        }

        if (!Withholding)
        {
            _window.Enqueue((now + (long)(options.RateLimitWindowSeconds * Stopwatch.Frequency), byteCount));
            return RateDecision.Send;
        }
        // A withheld message does not count against the window (as jupyter_server).
        _msgCount--;
        _byteCount -= byteCount;
        return warn ? RateDecision.DropAndWarn : RateDecision.Drop;
    }

    private string Notice(string what, string variable, double limit, string unit) =>
        $"IOPub {what} rate exceeded.\nThe Jupyter server will temporarily stop sending output\n" +
        $"to the client in order to avoid crashing it.\nTo change this limit, set the environment variable\n" +
        $"`{variable}` of the sandbox appliance.\n\nCurrent values:\n{variable}={limit} ({unit})\n" +
        $"KG_RATE_LIMIT_WINDOW={options.RateLimitWindowSeconds} (secs)\n";
}
