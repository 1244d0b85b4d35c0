using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http;
using Sandbox.Common;

namespace Sandbox.Gateway;

internal static class GatewayHttp
{
    public static IResult Json<T>(T value, JsonTypeInfo<T> type, int status = 200) =>
        Results.Json(value, type, statusCode: status);

    /// <summary>Reads an optional JSON body: null when empty; 400 with Kernel Gateway's message when malformed.</summary>
    public static async Task<T?> ReadBodyAsync<T>(HttpRequest request, JsonTypeInfo<T> type) where T : class
    {
        using var memory = new MemoryStream();
        await request.Body.CopyToAsync(memory);
        if (memory.Length == 0 || IsBlank(memory)) return null;
        memory.Position = 0;
        try
        {
            return JsonSerializer.Deserialize(memory, type)
                ?? throw SandboxException.BadRequest("Invalid JSON in body of request");
        }
        catch (JsonException)
        {
            throw SandboxException.BadRequest("Invalid JSON in body of request");
        }
    }

    private static bool IsBlank(MemoryStream m)
    {
        foreach (var b in m.GetBuffer().AsSpan(0, (int)m.Length))
            if (b is not ((byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')) return false;
        return true;
    }

    /// <summary>Request env must be an object of strings (Kernel Gateway answers 400 otherwise).</summary>
    public static Dictionary<string, string>? StringEnv(Dictionary<string, JsonElement>? env)
    {
        if (env is null) return null;
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (k, v) in env)
        {
            if (v.ValueKind != JsonValueKind.String) throw SandboxException.BadRequest($"env value of {k} is not a string");
            try { result[k] = v.GetString()!; }
            catch (InvalidOperationException) { throw SandboxException.BadRequest($"env value of {k} is not valid UTF-8"); }
        }
        return result;
    }
}
