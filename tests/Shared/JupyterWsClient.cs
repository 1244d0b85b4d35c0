using System.Buffers.Binary;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;

namespace Sandbox.Testing;

/// <summary>
/// A Jupyter WebSocket client as agents write them: JSON messages, top-level msg_type, optional channel.
/// With <c>v1</c> it speaks the v1.kernel.websocket.jupyter.org framing instead.
/// </summary>
public sealed class JupyterWsClient : IAsyncDisposable
{
    private readonly ClientWebSocket _socket;
    private readonly bool _v1;

    private JupyterWsClient(ClientWebSocket socket, bool v1)
    {
        _socket = socket;
        _v1 = v1;
    }

    public string Session { get; } = Guid.NewGuid().ToString("N");
    public WebSocket Socket => _socket;
    public List<JsonObject> Seen { get; } = [];

    public static async Task<JupyterWsClient> ConnectAsync(string url, bool v1 = false, string? headerToken = null)
    {
        var socket = new ClientWebSocket();
        if (v1) socket.Options.AddSubProtocol("v1.kernel.websocket.jupyter.org");
        if (headerToken is not null) socket.Options.SetRequestHeader("Authorization", "token " + headerToken);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await socket.ConnectAsync(new Uri(url), cts.Token);
        return new JupyterWsClient(socket, v1);
    }

    public static JsonObject Header(string msgType, string session) => new()
    {
        ["msg_id"] = Guid.NewGuid().ToString("N"),
        ["username"] = "test",
        ["session"] = session,
        ["msg_type"] = msgType,
        ["version"] = "5.3",
        ["date"] = DateTime.UtcNow.ToString("O"),
    };

    /// <summary>Sends a message and returns its msg_id. <paramref name="channel"/> null leaves the key out.</summary>
    public async Task<string> SendAsync(string msgType, JsonObject content, string? channel = "shell", bool buffersAsObject = false)
    {
        var header = Header(msgType, Session);
        var msg = new JsonObject
        {
            ["header"] = header,
            ["parent_header"] = new JsonObject(),
            ["metadata"] = new JsonObject(),
            ["content"] = content,
        };
        if (buffersAsObject) msg["buffers"] = new JsonObject();
        if (channel is not null) msg["channel"] = channel;
        if (_v1)
        {
            var parts = new[] { header, new JsonObject(), new JsonObject(), content }.Select(p => Encoding.UTF8.GetBytes(p.ToJsonString())).ToList();
            await SendBinaryAsync(EncodeV1(channel ?? "shell", parts));
        }
        else
        {
            await SendTextAsync(msg.ToJsonString());
        }
        return header["msg_id"]!.GetValue<string>();
    }

    public Task<string> ExecuteRequestAsync(string code, bool allowStdin = false, string? channel = "shell") =>
        SendAsync("execute_request", new JsonObject
        {
            ["code"] = code,
            ["silent"] = false,
            ["store_history"] = true,
            ["user_expressions"] = new JsonObject(),
            ["allow_stdin"] = allowStdin,
            ["stop_on_error"] = true,
        }, channel);

    public Task SendTextAsync(string text) =>
        _socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, CancellationToken.None);

    public Task SendBinaryAsync(byte[] data) =>
        _socket.SendAsync(data, WebSocketMessageType.Binary, true, CancellationToken.None);

    /// <summary>Next message, as a JSON object with top-level msg_type and channel; null when the socket closed.</summary>
    public async Task<JsonObject?> ReceiveAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var buffer = new MemoryStream();
        var chunk = new byte[64 * 1024];
        WebSocketReceiveResult result;
        do
        {
            result = await _socket.ReceiveAsync(chunk, cts.Token);
            if (result.MessageType == WebSocketMessageType.Close) return null;
            buffer.Write(chunk, 0, result.Count);
        } while (!result.EndOfMessage);
        var data = buffer.ToArray();
        JsonObject msg;
        if (_v1) msg = DecodeV1(data);
        else if (result.MessageType == WebSocketMessageType.Binary) msg = DecodeLegacyBinary(data);
        else msg = JsonNode.Parse(data)!.AsObject();
        Seen.Add(msg);
        return msg;
    }

    /// <summary>Reads until the server closes; returns null then (messages before it land in <see cref="Seen"/>).</summary>
    public async Task<JsonObject?> WaitForCloseAsync(TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            try
            {
                if (await ReceiveAsync(deadline - DateTime.UtcNow) is null) return null;
            }
            catch (WebSocketException) { return null; }
        }
    }

    /// <summary>Reads until a message matches; the others stay in <see cref="Seen"/>.</summary>
    public async Task<JsonObject> WaitForAsync(Func<JsonObject, bool> match, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero) throw new TimeoutException("no matching message; seen: " + string.Join(", ", Seen.Select(Type)));
            var msg = await ReceiveAsync(left) ?? throw new IOException("socket closed while waiting");
            if (match(msg)) return msg;
        }
    }

    /// <summary>Runs code and returns every message answering it, through execute_reply and status idle.</summary>
    public async Task<List<JsonObject>> ExecuteAsync(string code, string? channel = "shell", TimeSpan? timeout = null)
    {
        var id = await ExecuteRequestAsync(code, channel: channel);
        return await CollectReplyAsync(id, timeout);
    }

    public async Task<List<JsonObject>> CollectReplyAsync(string msgId, TimeSpan? timeout = null)
    {
        var result = new List<JsonObject>();
        bool reply = false, idle = false;
        while (!(reply && idle))
        {
            var msg = await WaitForAsync(m => ParentId(m) == msgId, timeout);
            result.Add(msg);
            if (Type(msg) == "execute_reply") reply = true;
            if (Type(msg) == "status" && msg["content"]!["execution_state"]!.GetValue<string>() == "idle") idle = true;
        }
        return result;
    }

    public static string Type(JsonObject m) => m["msg_type"]?.GetValue<string>() ?? m["header"]!["msg_type"]!.GetValue<string>();
    public static string? ParentId(JsonObject m) => m["parent_header"]?["msg_id"]?.GetValue<string>();

    /// <summary>A status message's execution_state; "" for any other message.</summary>
    public static string ExecutionState(JsonObject m) => m["content"]?["execution_state"]?.GetValue<string>() ?? "";

    public static string StreamText(IEnumerable<JsonObject> messages) =>
        string.Concat(messages.Where(m => Type(m) == "stream").Select(m => m["content"]!["text"]!.GetValue<string>()));

    public static byte[] EncodeV1(string channel, IReadOnlyList<byte[]> parts)
    {
        var count = parts.Count + 2;
        var channelBytes = Encoding.UTF8.GetBytes(channel);
        var headerSize = 8 * (1 + count);
        var total = headerSize + channelBytes.Length + parts.Sum(p => p.Length);
        var data = new byte[total];
        BinaryPrimitives.WriteUInt64LittleEndian(data, (ulong)count);
        var pos = headerSize;
        var slot = 1;
        foreach (var part in new[] { channelBytes }.Concat(parts))
        {
            BinaryPrimitives.WriteUInt64LittleEndian(data.AsSpan(8 * slot++), (ulong)pos);
            part.CopyTo(data, pos);
            pos += part.Length;
        }
        BinaryPrimitives.WriteUInt64LittleEndian(data.AsSpan(8 * slot), (ulong)pos);
        return data;
    }

    private static JsonObject DecodeV1(byte[] data)
    {
        var count = (int)BinaryPrimitives.ReadUInt64LittleEndian(data);
        var offsets = Enumerable.Range(0, count).Select(i => (int)BinaryPrimitives.ReadUInt64LittleEndian(data.AsSpan(8 * (i + 1)))).ToArray();
        string Part(int i) => Encoding.UTF8.GetString(data, offsets[i], offsets[i + 1] - offsets[i]);
        var header = JsonNode.Parse(Part(1))!.AsObject();
        return new JsonObject
        {
            ["channel"] = Part(0),
            ["header"] = header,
            ["msg_type"] = header["msg_type"]!.GetValue<string>(),
            ["msg_id"] = header["msg_id"]!.GetValue<string>(),
            ["parent_header"] = JsonNode.Parse(Part(2)),
            ["metadata"] = JsonNode.Parse(Part(3)),
            ["content"] = JsonNode.Parse(Part(4)),
            ["buffer_count"] = count - 6,
        };
    }

    private static JsonObject DecodeLegacyBinary(byte[] data)
    {
        var n = (int)BinaryPrimitives.ReadUInt32BigEndian(data);
        var first = (int)BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(4));
        var second = n > 1 ? (int)BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(8)) : data.Length;
        var msg = JsonNode.Parse(Encoding.UTF8.GetString(data, first, second - first))!.AsObject();
        msg["buffer_count"] = n - 1;
        return msg;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_socket.State == WebSocketState.Open)
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "", cts.Token);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException) { }
        _socket.Dispose();
    }
}
