namespace Sandbox.Common;

/// <summary>What went wrong, in terms of the request, not of any protocol. <c>Web/ErrorResults</c> maps each
/// kind to one HTTP status on every port; MCP and other adapters map them to their own error forms.</summary>
internal enum ErrorKind
{
    /// <summary>A parameter or body field is invalid; <see cref="SandboxException.Field"/> names it when known.</summary>
    BadRequest,
    /// <summary>Refused by policy (origin, host, a disabled feature, a resource limit).</summary>
    Forbidden,
    NotFound,
    /// <summary>The target exists but is in the wrong state (already exists, not empty, already set).</summary>
    Conflict,
    /// <summary>A wait ran out before its condition held.</summary>
    Timeout,
    TooLarge,
    UnsupportedMediaType,
    /// <summary>A dependency (the X display, a kernel, D-Bus) is absent or lost; retrying later may work.</summary>
    Unavailable,
    /// <summary>The disk (or the configured byte budget) is full.</summary>
    StorageFull,
    /// <summary>The request waited too long for the one before it.</summary>
    Busy,
}

/// <summary>
/// The one exception areas throw for a request that cannot be served. It knows nothing of HTTP: the
/// kind says what happened, <see cref="Field"/> which input was wrong, and the message is for the
/// client (never a stack trace, never a secret).
/// </summary>
internal class SandboxException(ErrorKind kind, string message, string? field = null, Exception? inner = null)
    : Exception(message, inner)
{
    public ErrorKind Kind { get; } = kind;

    /// <summary>The parameter or body field at fault (e.g. <c>region</c>, <c>actions[2].coordinate</c>), when known.</summary>
    public string? Field { get; } = field;

    /// <summary>A bad input with its name; the message is prefixed by the field unless it already names it.</summary>
    public static SandboxException BadField(string field, string message) =>
        new(ErrorKind.BadRequest, message.StartsWith(field, StringComparison.Ordinal) ? message : $"{field}: {message}", field);

    public static SandboxException BadRequest(string message) => new(ErrorKind.BadRequest, message);
    public static SandboxException Forbidden(string message) => new(ErrorKind.Forbidden, message);
    public static SandboxException NotFound(string message) => new(ErrorKind.NotFound, message);
    public static SandboxException Conflict(string message) => new(ErrorKind.Conflict, message);
    public static SandboxException Timeout(string message) => new(ErrorKind.Timeout, message);
    public static SandboxException TooLarge(string message) => new(ErrorKind.TooLarge, message);
    public static SandboxException UnsupportedMediaType(string message) => new(ErrorKind.UnsupportedMediaType, message);
    public static SandboxException Unavailable(string message, Exception? inner = null) => new(ErrorKind.Unavailable, message, inner: inner);
    public static SandboxException StorageFull(string message, Exception? inner = null) => new(ErrorKind.StorageFull, message, inner: inner);
    public static SandboxException Busy(string message) => new(ErrorKind.Busy, message);
}

/// <summary>Classifies I/O failures once, for every area that writes files.</summary>
internal static class IoErrors
{
    private const int ENOSPC = 28, EDQUOT = 122;

    /// <summary>True for "no space left" and "quota exceeded" (both are a full disk to the client).</summary>
    public static bool IsDiskFull(IOException e) =>
        (e.HResult & 0xFFFF) is ENOSPC or EDQUOT
        || e.Message.Contains("No space left", StringComparison.OrdinalIgnoreCase)
        || e.Message.Contains("quota", StringComparison.OrdinalIgnoreCase);
}
