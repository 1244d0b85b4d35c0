using System.Buffers;
using System.Net.WebSockets;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Sandbox.Gateway;

/// <summary>
/// One WebSocket on <c>/api/kernels/{id}/channels</c>. The hub thread hands it messages through
/// <see cref="Deliver"/> (never blocking: an unbounded queue capped by bytes); a writer task encodes and
/// sends them, and the reader decodes client frames and forwards them. All sends, including the close,
/// happen on the writer task, since a WebSocket allows only one send at a time.
/// </summary>
internal sealed class KernelConnection(Kernel kernel, string sessionId, WsProtocol protocol, GatewayOptions options, ILogger log)
    : IKernelClient
{
    private readonly Channel<(string Channel, WireMessage Message)> _out =
        Channel.CreateUnbounded<(string, WireMessage)>(new UnboundedChannelOptions { SingleReader = true });
    private long _queuedBytes;
    private WebSocketCloseStatus _closeStatus = WebSocketCloseStatus.NormalClosure;
    private string _closeReason = "";
    private int _closing;
    // Cancelling a receive aborts the socket, so the reader is only cancelled once the writer has sent
    // its close frame (or failed) and the peer had a moment to answer it.
    private readonly CancellationTokenSource _readCancel = new();

    public string SessionId { get; } = sessionId;
    public WsProtocol Protocol { get; } = protocol;

    public void Deliver(string channel, WireMessage message)
    {
        var size = message.Size;
        if (Interlocked.Add(ref _queuedBytes, size) > options.MaxSendQueueBytes)
        {
            Interlocked.Add(ref _queuedBytes, -size);
            Close(WebSocketCloseStatus.PolicyViolation, "client too slow: send queue full");
            return;
        }
        if (!_out.Writer.TryWrite((channel, message))) Interlocked.Add(ref _queuedBytes, -size);
    }

    public void Evict(string reason) => Close(WebSocketCloseStatus.NormalClosure, reason);

    private void Close(WebSocketCloseStatus status, string reason)
    {
        if (Interlocked.Exchange(ref _closing, 1) != 0) return;
        _closeStatus = status;
        _closeReason = reason;
        log.LogInformation("kernel {Kernel}: closing connection of session {Session}: {Reason}", kernel.Id, SessionId, reason);
        _out.Writer.TryComplete();
    }

    /// <summary>Runs until the socket closes; the caller detaches from the hub afterwards.</summary>
    public async Task RunAsync(WebSocket socket, CancellationToken aborted)
    {
        var writer = WriteLoopAsync(socket);
        using var readToken = CancellationTokenSource.CreateLinkedTokenSource(aborted, _readCancel.Token);
        try
        {
            await ReadLoopAsync(socket, readToken.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException)
        {
            // The peer went away without a close handshake.
        }
        Close(WebSocketCloseStatus.NormalClosure, "client closed");
        // Give the writer a moment to send the close frame, then make sure nothing lingers.
        await Task.WhenAny(writer, Task.Delay(2000, CancellationToken.None)).ConfigureAwait(false);
        if (!writer.IsCompleted) socket.Abort();
        await writer.ConfigureAwait(false);
    }

    private async Task ReadLoopAsync(WebSocket socket, CancellationToken aborted)
    {
        var buffer = new ArrayBufferWriter<byte>(16 * 1024);
        while (socket.State == WebSocketState.Open && Volatile.Read(ref _closing) == 0)
        {
            buffer.ResetWrittenCount();
            ValueWebSocketReceiveResult result;
            var tooBig = false;
            do
            {
                result = await socket.ReceiveAsync(buffer.GetMemory(8 * 1024), aborted).ConfigureAwait(false);
                if (result.MessageType == WebSocketMessageType.Close) return;
                buffer.Advance(result.Count);
                if (buffer.WrittenCount > options.MaxMessageBytes) { tooBig = true; break; }
            } while (!result.EndOfMessage);
            if (tooBig)
            {
                log.LogWarning("kernel {Kernel}: message over {Limit} bytes from session {Session}; closing with 1009", kernel.Id, options.MaxMessageBytes, SessionId);
                Close(WebSocketCloseStatus.MessageTooBig, "message too big");
                return;
            }
            OnClientMessage(buffer.WrittenMemory, result.MessageType == WebSocketMessageType.Binary);
        }
    }

    private void OnClientMessage(ReadOnlyMemory<byte> data, bool binary)
    {
        ClientMessage message;
        try
        {
            // The decoded message owns copies of its parts: the receive buffer is reused.
            message = WebSocketCodec.Decode(Protocol, data, binary);
        }
        catch (WsDecodeException e)
        {
            log.LogWarning("kernel {Kernel}: ignoring bad message from session {Session}: {Error}", kernel.Id, SessionId, e.Message);
            return;
        }
        var channel = message.Channel;
        if (channel is null)
        {
            // Common for agent clients; jupyter_server assumes shell too.
            log.LogDebug("kernel {Kernel}: no channel specified, assuming shell", kernel.Id);
            channel = "shell";
        }
        if (!KernelHub.IsClientChannel(channel))
        {
            log.LogWarning("kernel {Kernel}: no such channel {Channel}; message ignored", kernel.Id, channel);
            return;
        }
        kernel.Touch();
        kernel.Hub.Send(this, channel, message.Message);
    }

    private async Task WriteLoopAsync(WebSocket socket)
    {
        try
        {
            await foreach (var (channel, message) in _out.Reader.ReadAllAsync().ConfigureAwait(false))
            {
                Interlocked.Add(ref _queuedBytes, -message.Size);
                var (payload, binary) = WebSocketCodec.Encode(Protocol, channel, message);
                await socket.SendAsync(payload, binary ? WebSocketMessageType.Binary : WebSocketMessageType.Text, true, CancellationToken.None)
                    .ConfigureAwait(false);
            }
            if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                using var timeout = new CancellationTokenSource(2000);
                await socket.CloseOutputAsync(_closeStatus, _closeReason, timeout.Token).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException or ObjectDisposedException)
        {
            Close(WebSocketCloseStatus.NormalClosure, "send failed");
        }
        finally
        {
            _readCancel.CancelAfter(2000);
        }
    }
}
