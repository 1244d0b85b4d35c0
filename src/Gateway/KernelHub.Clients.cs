using System.Text;
using Microsoft.Extensions.Logging;
using NetMQ;
using NetMQ.Sockets;

namespace Sandbox.Gateway;

internal sealed partial class KernelHub
{
    /// <summary>Client channels that may be written to; iopub and hb are the kernel's to speak on.</summary>
    public static bool IsClientChannel(string channel) => channel is "shell" or "control" or "stdin";

    /// <summary>
    /// Attaches a WebSocket to its session: a new socket set, or the existing one of a reconnecting
    /// session (whose buffered messages are then replayed to it). A still-open connection with the same
    /// session id is evicted, as jupyter_server replaces stale connections.
    /// </summary>
    public Task AttachAsync(IKernelClient client)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Post(() =>
        {
            // Another session buffering for a reconnect loses its claim once someone else connects.
            foreach (var (id, other) in _sessions.ToArray())
            {
                if (other.Client is null && id != client.SessionId)
                {
                    if (other.BufferedCount > 0)
                        _log.LogInformation("kernel {Kernel}: discarding {Count} messages buffered for session {Session}", _kernelId, other.BufferedCount, id);
                    other.DisposeSockets();
                    _sessions.Remove(id);
                }
            }
            if (_sessions.TryGetValue(client.SessionId, out var session))
            {
                if (session.Client is { } stale)
                {
                    _log.LogWarning("kernel {Kernel}: replacing stale connection of session {Session}", _kernelId, client.SessionId);
                    stale.Evict("replaced by a new connection of the same session");
                }
                else _connectedClients++;
                session.Client = client;
                var replay = session.TakeBuffer();
                if (replay.Count > 0)
                    _log.LogInformation("kernel {Kernel}: replaying {Count} buffered messages to session {Session}", _kernelId, replay.Count, client.SessionId);
                foreach (var (channel, m) in replay) client.Deliver(channel, m);
            }
            else
            {
                session = new ClientSession(client.SessionId) { Client = client };
                var identity = Encoding.UTF8.GetBytes(client.SessionId);
                session.Shell = NewDealer(identity, _connection.ShellPort, m => OnClientReply(session, "shell", m));
                session.Control = NewDealer(identity, _connection.ControlPort, m => OnClientReply(session, "control", m));
                session.Stdin = NewDealer(identity, _connection.StdinPort, m => OnClientReply(session, "stdin", m));
                session.Poller = _poller;
                _sessions[client.SessionId] = session;
                _connectedClients++;
            }
            done.TrySetResult();
        });
        return done.Task;
    }

    /// <summary>
    /// The WebSocket of <paramref name="client"/> closed. The last one leaves its session buffering for a
    /// reconnect (if a replay buffer is configured); otherwise its sockets close.
    /// </summary>
    public void Detach(IKernelClient client) => Post(() =>
    {
        if (!_sessions.TryGetValue(client.SessionId, out var session) || session.Client != client) return;
        session.Client = null;
        _connectedClients--;
        if (_connectedClients == 0 && _options.MaxReplayBufferBytes > 0)
        {
            session.StartBuffering();
            return;
        }
        session.DisposeSockets();
        _sessions.Remove(client.SessionId);
    });

    /// <summary>Forwards a client's message to the kernel on the session's own socket.</summary>
    public void Send(IKernelClient client, string channel, WireMessage m) => Post(() =>
    {
        if (!_sessions.TryGetValue(client.SessionId, out var session) || session.Client != client) return;
        var socket = session.Socket(channel);
        if (socket is null) return;
        if (!socket.TrySendMultipartBytes(TimeSpan.Zero, _signer.Frames(m)))
            _log.LogWarning("kernel {Kernel}: {Channel} queue full, message from session {Session} dropped", _kernelId, channel, client.SessionId);
    });

    private void OnClientReply(ClientSession session, string channel, WireMessage m)
    {
        if (CompletePending(m)) return;
        if (session.Client is { } client) client.Deliver(channel, m);
        else session.BufferMessage(channel, m, _options.MaxReplayBufferBytes, _log);
    }

    /// <summary>One client session: its DEALERs and, while its connection is away, a bounded replay buffer.</summary>
    private sealed class ClientSession(string id)
    {
        private readonly Queue<(string Channel, WireMessage Message)> _buffer = new();
        private long _bufferedBytes;
        private bool _buffering, _overflowLogged;

        public string Id { get; } = id;
        public IKernelClient? Client { get; set; }
        public DealerSocket? Shell { get; set; }
        public DealerSocket? Control { get; set; }
        public DealerSocket? Stdin { get; set; }
        public NetMQPoller? Poller { get; set; }
        public int BufferedCount => _buffer.Count;

        public DealerSocket? Socket(string channel) => channel switch
        {
            "shell" => Shell,
            "control" => Control,
            "stdin" => Stdin,
            _ => null,
        };

        public void StartBuffering()
        {
            _buffering = true;
            _overflowLogged = false;
        }

        public void BufferMessage(string channel, WireMessage m, long limit, ILogger log)
        {
            if (!_buffering) return;
            _buffer.Enqueue((channel, m));
            _bufferedBytes += m.Size;
            // Oldest first out: a reconnecting client most needs the end of its output and the replies.
            while (_bufferedBytes > limit && _buffer.Count > 0)
            {
                _bufferedBytes -= _buffer.Dequeue().Message.Size;
                if (!_overflowLogged)
                {
                    _overflowLogged = true;
                    log.LogWarning("replay buffer of session {Session} full; dropping its oldest messages", Id);
                }
            }
        }

        public List<(string Channel, WireMessage Message)> TakeBuffer()
        {
            var items = _buffer.ToList();
            _buffer.Clear();
            _bufferedBytes = 0;
            _buffering = false;
            return items;
        }

        /// <summary>After the poller stopped, sockets are disposed without unregistering (that would wait on the dead loop).</summary>
        public void DetachFromPoller() => Poller = null;

        public void DisposeSockets()
        {
            foreach (var s in new[] { Shell, Control, Stdin })
            {
                if (s is null) continue;
                try { Poller?.Remove(s); } catch (Exception) { /* poller already stopped */ }
                s.Dispose();
            }
            Shell = Control = Stdin = null;
            _buffer.Clear();
        }
    }
}
