using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http;
using Sandbox.Common;

namespace Sandbox.Web;

/// <summary>Reads request bodies the same way on every endpoint: JSON only, errors naming what is wrong.</summary>
internal static class JsonBody
{
    /// <summary>True when the request declares a JSON body (<c>application/json</c> or <c>application/*+json</c>).</summary>
    public static bool IsJson(HttpRequest request) =>
        request.ContentType is { } type && MediaType(type) is var m
        && (m.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || (m.StartsWith("application/", StringComparison.OrdinalIgnoreCase) && m.EndsWith("+json", StringComparison.OrdinalIgnoreCase)));

    /// <summary>The media type without parameters, e.g. <c>text/plain</c> of <c>text/plain; charset=utf-8</c>.</summary>
    public static string MediaType(string contentType)
    {
        var semi = contentType.IndexOf(';');
        return (semi < 0 ? contentType : contentType[..semi]).Trim();
    }

    /// <summary>
    /// Deserializes a JSON body. An empty body gives null when <paramref name="allowEmpty"/>, else a 400;
    /// malformed JSON or a wrong shape is a 400 naming the body.
    /// </summary>
    public static async Task<T?> ReadAsync<T>(HttpRequest request, JsonTypeInfo<T> type, bool allowEmpty = false,
        CancellationToken ct = default) where T : class
    {
        using var memory = new MemoryStream();
        await request.Body.CopyToAsync(memory, ct);
        if (memory.Length == 0 || IsBlank(memory.GetBuffer().AsSpan(0, (int)memory.Length)))
            return allowEmpty ? null : throw SandboxException.BadField("body", "a JSON object is required");
        memory.Position = 0;
        try
        {
            return JsonSerializer.Deserialize(memory, type) ?? throw SandboxException.BadField("body", "a JSON object is required, not null");
        }
        catch (JsonException e)
        {
            throw SandboxException.BadField("body", $"not valid JSON for this endpoint ({e.Message})");
        }
        catch (InvalidOperationException e)
        {
            // System.Text.Json reports invalid UTF-8 inside strings this way.
            throw SandboxException.BadField("body", $"not valid JSON text ({e.Message})");
        }
    }

    private static bool IsBlank(ReadOnlySpan<byte> bytes)
    {
        foreach (var b in bytes)
            if (b is not ((byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')) return false;
        return true;
    }
}
