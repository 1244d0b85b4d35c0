using System.Text;
using Microsoft.Extensions.Logging;
using NetMQ;
using NetMQ.Sockets;

namespace Sandbox.Gateway;

/// <summary>A WebSocket connection as the hub sees it. Called on the hub thread; must not block.</summary>
internal interface IKernelClient
{
    string SessionId { get; }
    void Deliver(string channel, WireMessage message);
    /// <summary>The hub dropped this client (replaced by a reconnect of its session, or the kernel is gone).</summary>
    void Evict(string reason);
}

/// <summary>
/// The ZMQ side of one kernel, owned by one thread (NetMQ sockets are single-threaded): an iopub SUB
/// shared by every connection, a shell and a control DEALER for the gateway's own requests, and per
/// client session a shell/control/stdin DEALER set whose identity is the session id, so the kernel
/// routes replies and input_request to the right connection (as jupyter_server's per-handler sockets).
/// Other threads talk to it only through <see cref="Post"/>.
/// <para>
/// When the last connection goes away its session keeps its sockets and buffers what arrives (bounded),
/// and a reconnect with the same session_id gets it replayed; any other session's arrival drops it.
/// The sockets reconnect by themselves when the kernel restarts on the same ports.
/// </para>
/// </summary>
internal sealed partial class KernelHub : IDisposable
{
    private readonly string _kernelId;
    private readonly ConnectionInfo _connection;
    private readonly GatewayOptions _options;
    private readonly ILogger _log;
    private readonly NetMQPoller _poller = new();
    private readonly NetMQQueue<Action> _commands = new();
    private readonly MessageSigner _signer;
    private readonly IopubRateLimiter _limiter;
    private readonly SubscriberSocket _iopub;
    private readonly DealerSocket _shell, _control;
    private readonly Dictionary<string, ClientSession> _sessions = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TaskCompletionSource<WireMessage>> _pending = new(StringComparer.Ordinal);
    private readonly string _gatewaySession = Guid.NewGuid().ToString("N");
    private readonly List<byte[]> _frames = new(8);
    // Loopback to a kernel that is still binding its ports: NetMQ's default 100 ms retry would add up to
    // that much to every start and restart.
    private static readonly TimeSpan ReconnectInterval = TimeSpan.FromMilliseconds(10);
    private long _iopubCount;
    private int _connectedClients;
    private bool _disposed;

    /// <summary>Called on the hub thread for every verified iopub message (also internal ones): state tracking.</summary>
    public Action<WireMessage>? IopubObserved { get; set; }
    /// <summary>Called on the hub thread for every message to or from the kernel: last_activity.</summary>
    public Action? Activity { get; set; }

    public KernelHub(string kernelId, ConnectionInfo connection, GatewayOptions options, ILogger log)
    {
        _kernelId = kernelId;
        _connection = connection;
        _options = options;
        _log = log;
        _signer = new MessageSigner(Encoding.ASCII.GetBytes(connection.Key));
        _limiter = new IopubRateLimiter(options);

        KernelFrames.EnsureInstalled();
        _iopub = new SubscriberSocket();
        _iopub.Options.Linger = TimeSpan.Zero;
        _iopub.Options.ReconnectInterval = ReconnectInterval;
        _iopub.SubscribeToAnyTopic();
        _iopub.Connect(connection.Endpoint(connection.IopubPort));
        _iopub.ReceiveReady += (_, e) => Drain(e.Socket, OnIopub);

        _shell = NewDealer(Encoding.ASCII.GetBytes("sandbox-gw-shell-" + _gatewaySession), connection.ShellPort, m => CompletePending(m));
        _control = NewDealer(Encoding.ASCII.GetBytes("sandbox-gw-control-" + _gatewaySession), connection.ControlPort, m => CompletePending(m));

        _commands.ReceiveReady += (_, _) =>
        {
            while (_commands.TryDequeue(out var action, TimeSpan.Zero))
            {
                try { action(); }
                catch (Exception e) { _log.LogError(e, "kernel {Kernel}: hub command failed", _kernelId); }
            }
        };
        _poller.Add(_commands);
        _poller.Add(_iopub);
        _poller.RunAsync($"kernel {kernelId[..8]}", isBackgroundThread: true);
    }

    /// <summary>iopub messages seen so far; readiness checks wait for it to move (ZMQ's slow-joiner problem).</summary>
    public long IopubCount => Interlocked.Read(ref _iopubCount);

    private TaskCompletionSource? _iopubWaiter;

    /// <summary>
    /// Completes once <see cref="IopubCount"/> differs from <paramref name="seen"/>: the start-up check waits on
    /// this instead of polling. One waiter at a time (a kernel's readiness check); a new call replaces the old.
    /// </summary>
    public Task IopubAfterAsync(long seen)
    {
        var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Interlocked.Exchange(ref _iopubWaiter, waiter)?.TrySetResult();
        if (IopubCount != seen) waiter.TrySetResult();
        return waiter.Task;
    }

    /// <summary>Sessions with a live WebSocket.</summary>
    public int ConnectedClients => Volatile.Read(ref _connectedClients);

    public void Post(Action action)
    {
        if (!_disposed) _commands.Enqueue(action);
    }

    private DealerSocket NewDealer(byte[] identity, int port, Action<WireMessage> onMessage)
    {
        var socket = new DealerSocket();
        socket.Options.Identity = identity;
        socket.Options.Linger = TimeSpan.Zero;
        socket.Options.ReconnectInterval = ReconnectInterval;
        socket.Connect(_connection.Endpoint(port));
        socket.ReceiveReady += (_, e) => Drain(e.Socket, onMessage);
        _poller.Add(socket);
        return socket;
    }

    private void Drain(NetMQSocket socket, Action<WireMessage> handler)
    {
        // Bounded per wake-up so one chatty socket cannot starve the others or the command queue.
        for (var i = 0; i < 256; i++)
        {
            var frames = _frames;
            frames.Clear();
            if (!KernelFrames.TryReceive(socket, frames)) return;
            var message = JupyterWire.Parse(frames, out var signature);
            if (message is null)
            {
                _log.LogWarning("kernel {Kernel}: malformed message dropped ({Frames} frames)", _kernelId, frames.Count);
                continue;
            }
            if (!_signer.Verify(message, signature))
            {
                _log.LogWarning("kernel {Kernel}: message with a bad signature dropped", _kernelId);
                continue;
            }
            Activity?.Invoke();
            handler(message);
        }
    }

    private void OnIopub(WireMessage m)
    {
        Interlocked.Increment(ref _iopubCount);
        if (Volatile.Read(ref _iopubWaiter) is not null) Interlocked.Exchange(ref _iopubWaiter, null)?.TrySetResult();
        IopubObserved?.Invoke(m);
        // Echoes of the gateway's own requests (kernel_info at connect) would look like a stray
        // "status: idle" to a client that waits for idle without matching parents.
        if (JupyterWire.IsInternalParent(m.Parent)) return;

        string? state = m.MsgType == "status" ? JupyterWire.ReadString(m.Content, "execution_state"u8) : null;
        switch (_limiter.Check(m.MsgType, m, state))
        {
            case RateDecision.Drop:
                KernelFrames.Discard(m);   // nothing holds it: its large frames' memory goes back now, not at some later GC
                return;
            case RateDecision.DropAndWarn:
                KernelFrames.Discard(m);
                _log.LogWarning("kernel {Kernel}: iopub rate limit exceeded, output withheld", _kernelId);
                var notice = JupyterWire.NewMessage("stream", _gatewaySession,
                    StreamContent("stderr", _limiter.LastWarning ?? "IOPub rate exceeded.\n"), m.Parent);
                Broadcast("iopub", notice);
                return;
        }
        Broadcast("iopub", m);
    }

    private static byte[] StreamContent(string name, string text)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(text.Length + 64);
        using (var w = new System.Text.Json.Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("name"u8, name);
            w.WriteString("text"u8, text);
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Delivers to every connected session, or into the replay buffer of a session that is away.</summary>
    private void Broadcast(string channel, WireMessage m)
    {
        foreach (var session in _sessions.Values)
        {
            if (session.Client is { } client) client.Deliver(channel, m);
            else session.BufferMessage(channel, m, _options.MaxReplayBufferBytes, _log);
        }
    }

    /// <summary>Publishes a gateway-made status (restarting, dead) to every client, as jupyter_server does on restarts.</summary>
    public void PublishStatus(string state) => Post(() =>
        Broadcast("iopub", JupyterWire.NewMessage("status", _gatewaySession, JupyterWire.StatusContent(state))));

    private bool CompletePending(WireMessage m)
    {
        if (!JupyterWire.IsInternalParent(m.Parent)) return false;
        var parentId = JupyterWire.ReadString(m.Parent, "msg_id"u8);
        if (parentId is not null && _pending.Remove(parentId, out var tcs)) tcs.TrySetResult(m);
        return true;
    }

    /// <summary>
    /// Sends a request of the gateway's own (kernel_info at start and at connect, interrupt or shutdown
    /// in message mode) and completes with the reply. <paramref name="sessionId"/> picks a client session's
    /// shell socket (so that connection's route is proven); null uses the gateway's own sockets.
    /// </summary>
    public Task<WireMessage> RequestAsync(string channel, string msgType, byte[] content, string? sessionId = null)
    {
        var tcs = new TaskCompletionSource<WireMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        var msgId = JupyterWire.NewInternalId();
        Post(() =>
        {
            DealerSocket? socket = sessionId is not null && _sessions.TryGetValue(sessionId, out var s) ? s.Socket(channel)
                : channel == "control" ? _control : _shell;
            if (socket is null) { tcs.TrySetException(new InvalidOperationException("no such channel")); return; }
            var m = new WireMessage(JupyterWire.NewHeader(msgId, msgType, sessionId ?? _gatewaySession),
                WireMessage.EmptyObject, WireMessage.EmptyObject, content, []);
            _pending[msgId] = tcs;
            if (!socket.TrySendMultipartBytes(TimeSpan.Zero, _signer.Frames(m)))
            {
                _pending.Remove(msgId);
                tcs.TrySetException(new IOException("kernel socket queue is full"));
            }
        });
        return tcs.Task;
    }

    /// <summary>Forgets requests that timed out so their late replies are simply dropped.</summary>
    public void ForgetPending(Task<WireMessage> task) => Post(() =>
    {
        foreach (var (id, tcs) in _pending.ToArray())
            if (tcs.Task == task) _pending.Remove(id);
    });

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        try { _poller.Stop(); } catch (Exception) { /* already stopped */ }
        foreach (var session in _sessions.Values)
        {
            session.Client?.Evict("kernel shut down");
            session.DetachFromPoller();
            session.DisposeSockets();
        }
        _sessions.Clear();
        foreach (var tcs in _pending.Values) tcs.TrySetCanceled();
        _iopub.Dispose();
        _shell.Dispose();
        _control.Dispose();
        _poller.Dispose();
        _commands.Dispose();
        _signer.Dispose();
    }
}
