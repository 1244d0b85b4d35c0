using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Sandbox.Web;

/// <summary>
/// A shared secret a request must present, as Kernel Gateway accepts it: <c>?token=X</c> or
/// <c>Authorization: token X</c> (also <c>Bearer X</c>). Only the SHA-256 of the secret is kept, and the
/// presented value is hashed before a fixed-time comparison, so neither the content nor the length of the
/// token leaks through timing. Mutable once (a warm sandbox gets its token from <c>POST /init</c>), so each port
/// holds one instance and checks it per request. Used by the REST port (<c>SANDBOX_TOKEN</c>) and the gateway (<c>KG_AUTH_TOKEN</c>).
/// </summary>
internal sealed class AccessToken
{
    private readonly Lock _gate = new();
    private volatile byte[]? _hash;

    /// <summary>A holder, empty (open) when <paramref name="token"/> is null or empty; <see cref="Set"/> may fill it once.</summary>
    public AccessToken(string? token = null)
    {
        if (!string.IsNullOrEmpty(token)) _hash = Hash(token);
    }

    public static AccessToken? From(string? token) => string.IsNullOrEmpty(token) ? null : new AccessToken(token);

    public bool IsSet => _hash is not null;

    /// <summary>True when no token is set, or the request presents it.</summary>
    public bool Authorizes(HttpRequest request)
    {
        if (_hash is not { } expected) return true;
        var given = Presented(request);
        return given is not null && CryptographicOperations.FixedTimeEquals(Hash(given), expected);
    }

    /// <summary>Sets the token once (<c>POST /init</c>): the same value again changes nothing, another one is refused.</summary>
    public TokenChange Set(string token)
    {
        var hash = Hash(token);
        lock (_gate)
        {
            if (_hash is null)
            {
                _hash = hash;
                return TokenChange.Set;
            }
            return CryptographicOperations.FixedTimeEquals(hash, _hash) ? TokenChange.Same : TokenChange.Conflict;
        }
    }

    /// <summary>True when <see cref="Set"/> with <paramref name="token"/> would not be refused.</summary>
    public bool Accepts(string token) => _hash is not { } h || CryptographicOperations.FixedTimeEquals(Hash(token), h);

    private static byte[] Hash(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));

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

/// <summary>What setting a token did: set it, found the same one already set, or found another (409).</summary>
internal enum TokenChange { Set, Same, Conflict }
