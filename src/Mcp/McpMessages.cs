using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Sandbox.Common;

namespace Sandbox.Mcp;

/// <summary>JSON-RPC 2.0 error codes MCP uses.</summary>
internal static class RpcError
{
    public const int ParseError = -32700, InvalidRequest = -32600, MethodNotFound = -32601, InvalidParams = -32602, Internal = -32603;
    /// <summary>MCP: the session is unknown or closed.</summary>
    public const int SessionNotFound = -32001;
    /// <summary>MCP: resources/read of a URI that does not exist.</summary>
    public const int ResourceNotFound = -32002;
}

/// <summary>A protocol error (answered as a JSON-RPC error, not as a tool error).</summary>
internal sealed class McpProtocolException(int code, string message) : Exception(message)
{
    public int Code { get; } = code;
}

/// <summary>An encoded JSON-RPC message; a large one lives in a native buffer until it is sent (then Dispose).</summary>
internal sealed class McpPayload(ReadOnlyMemory<byte> data, IDisposable? owner = null) : IDisposable
{
    public ReadOnlyMemory<byte> Data { get; } = data;
    public void Dispose() => owner?.Dispose();
    public static implicit operator McpPayload(byte[] bytes) => new(bytes);
}

/// <summary>Writes JSON-RPC frames with Utf8JsonWriter.</summary>
internal static class McpMessages
{
    public delegate void Body(Utf8JsonWriter w);

    /// <summary>A large result (a tool's images) written into a native buffer, sent from it without a copy.</summary>
    public static McpPayload LargeResult(JsonElement id, Body result)
    {
        var buffer = new NativeBufferStream();
        try
        {
            using (var w = new Utf8JsonWriter((IBufferWriter<byte>)buffer, new JsonWriterOptions { SkipValidation = true }))
            {
                w.WriteStartObject();
                w.WriteString("jsonrpc"u8, "2.0");
                w.WritePropertyName("id"u8);
                id.WriteTo(w);
                w.WritePropertyName("result"u8);
                result(w);
                w.WriteEndObject();
            }
            return new McpPayload(buffer.ContentMemory, buffer);
        }
        catch
        {
            buffer.Dispose();
            throw;
        }
    }

    public static byte[] Result(JsonElement id, Body result, int sizeHint = 512)
    {
        var buffer = new ArrayBufferWriter<byte>(sizeHint);
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { SkipValidation = true }))
        {
            w.WriteStartObject();
            w.WriteString("jsonrpc"u8, "2.0");
            w.WritePropertyName("id"u8);
            id.WriteTo(w);
            w.WritePropertyName("result"u8);
            result(w);
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    public static byte[] Result<T>(JsonElement id, T value, JsonTypeInfo<T> type) =>
        Result(id, w => JsonSerializer.Serialize(w, value, type));

    public static byte[] Error(JsonElement? id, int code, string message)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("jsonrpc"u8, "2.0");
            w.WritePropertyName("id"u8);
            if (id is { ValueKind: JsonValueKind.String or JsonValueKind.Number } v) v.WriteTo(w);
            else w.WriteNullValue();
            w.WriteStartObject("error"u8);
            w.WriteNumber("code"u8, code);
            w.WriteString("message"u8, message);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    public static byte[] Notification(string method, Body parameters)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("jsonrpc"u8, "2.0");
            w.WriteString("method"u8, method);
            w.WritePropertyName("params"u8);
            parameters(w);
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    public static void WriteContent(Utf8JsonWriter w, McpContent c)
    {
        w.WriteStartObject();
        switch (c)
        {
            case McpText t:
                w.WriteString("type"u8, "text");
                w.WriteString("text"u8, t.Text);
                break;
            case McpImage i:
                w.WriteString("type"u8, "image");
                w.WriteBase64String("data"u8, i.Data.Span);
                w.WriteString("mimeType"u8, i.MimeType);
                break;
            case McpImageBase64 b:
                w.WriteString("type"u8, "image");
                w.WriteString("data"u8, b.Data);
                w.WriteString("mimeType"u8, b.MimeType);
                break;
            case McpBlob r:
                w.WriteString("type"u8, "resource");
                w.WriteStartObject("resource"u8);
                w.WriteString("uri"u8, r.Uri);
                w.WriteString("mimeType"u8, r.MimeType);
                w.WriteBase64String("blob"u8, r.Data.Span);
                w.WriteEndObject();
                break;
        }
        w.WriteEndObject();
    }

    public static void WriteToolResult(Utf8JsonWriter w, McpToolResult r)
    {
        w.WriteStartObject();
        w.WriteStartArray("content"u8);
        foreach (var c in r.Content) WriteContent(w, c);
        w.WriteEndArray();
        w.WriteBoolean("isError"u8, r.IsError);
        w.WriteEndObject();
    }
}
