using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Sandbox.Web;

/// <summary>
/// A shared secret a request must present, as Kernel Gateway accepts it: <c>?token=X</c> or
/// <c>Authorization: token X</c> (also <c>Bearer X</c>). Only the SHA-256 of the secret is kept, and the
/// presented value is hashed before a fixed-time comparison, so neither the content nor the length of the
/// token leaks through timing. Used by the REST port (<c>SANDBOX_TOKEN</c>) and the gateway (<c>KG_AUTH_TOKEN</c>).
/// </summary>
internal sealed class AccessToken
{
    private readonly byte[] _hash;

    public AccessToken(string token) => _hash = SHA256.HashData(Encoding.UTF8.GetBytes(token));

    public static AccessToken? From(string? token) => string.IsNullOrEmpty(token) ? null : new AccessToken(token);

    public bool Authorizes(HttpRequest request)
    {
        var given = Presented(request);
        return given is not null
            && CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(given)), _hash);
    }

    private static string? Presented(HttpRequest request)
    {
        if (request.Query["token"].ToString() is { Length: > 0 } q) return q;
        if (request.Headers.Authorization.ToString() is not { Length: > 0 } header) return null;
        var space = header.IndexOf(' ');
        if (space <= 0) return null;
        var scheme = header[..space];
        return scheme.Equals("token", StringComparison.OrdinalIgnoreCase) || scheme.Equals("bearer", StringComparison.OrdinalIgnoreCase)
            ? header[(space + 1)..].Trim()
            : null;
    }
}
