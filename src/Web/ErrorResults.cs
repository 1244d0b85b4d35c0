using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Sandbox.Common;

namespace Sandbox.Web;

/// <summary>The one error body of every endpoint on every port: <c>{"reason": "...", "message": "..."}</c>.</summary>
internal sealed record ApiError(string Reason, string Message);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(ApiError))]
internal sealed partial class WebJson : JsonSerializerContext;

/// <summary>
/// The single mapping from <see cref="ErrorKind"/> to HTTP status and reason phrase, used by both ports'
/// error middleware, by endpoints that answer an error inline, and by the OpenAPI document.
/// </summary>
internal static class ErrorResults
{
    public static (int Status, string Reason) Map(ErrorKind kind) => kind switch
    {
        ErrorKind.BadRequest => (400, "Bad Request"),
        ErrorKind.Forbidden => (403, "Forbidden"),
        ErrorKind.NotFound => (404, "Not Found"),
        ErrorKind.Conflict => (409, "Conflict"),
        ErrorKind.Timeout => (408, "Request Timeout"),
        ErrorKind.TooLarge => (413, "Payload Too Large"),
        ErrorKind.UnsupportedMediaType => (415, "Unsupported Media Type"),
        ErrorKind.Unavailable => (503, "Service Unavailable"),
        ErrorKind.StorageFull => (507, "Insufficient Storage"),
        ErrorKind.Busy => (503, "Service Unavailable"),
        _ => (500, "Internal Server Error"),
    };

    /// <summary>The reason phrase for a status this mapping gives (the action API reports failed actions with it).</summary>
    public static string ReasonPhrase(int status)
    {
        foreach (var kind in Enum.GetValues<ErrorKind>())
            if (Map(kind) is var (s, reason) && s == status) return reason;
        return status == 401 ? "Unauthorized" : "Internal Server Error";
    }

    public static IResult Error(int status, string reason, string message) =>
        Results.Json(new ApiError(reason, message), WebJson.Default.ApiError, statusCode: status);

    public static IResult Error(SandboxException e)
    {
        var (status, reason) = Map(e.Kind);
        return Error(status, reason, e.Message);
    }

    public static IResult Error(ErrorKind kind, string message)
    {
        var (status, reason) = Map(kind);
        return Error(status, reason, message);
    }

    /// <summary>
    /// Turns every failure into a JSON answer: a <see cref="SandboxException"/> by its kind, the framework's own
    /// bad-request exceptions (body too large, malformed request) by their status, and anything else as a 500
    /// that names the exception type (never a stack trace) and is logged, since it is our bug.
    /// </summary>
    public static IApplicationBuilder UseJsonErrors(this IApplicationBuilder app, ILogger log) =>
        app.Use(async (http, next) =>
        {
            try
            {
                await next(http);
            }
            catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
            {
                // The client went away; nothing to answer.
            }
            catch (Exception e) when (!http.Response.HasStarted)
            {
                var result = e switch
                {
                    SandboxException s => Error(s),
                    BadHttpRequestException b => Error(b.StatusCode, b.StatusCode == 413 ? "Payload Too Large" : "Bad Request", b.Message),
                    _ => null,
                };
                if (result is null)
                {
                    log.LogError(e, "unhandled error on {Method} {Path}", http.Request.Method, http.Request.Path);
                    result = Error(500, "Internal Server Error", $"{e.GetType().Name}: {e.Message}");
                }
                http.Response.Clear();
                await result.ExecuteAsync(http);
            }
        });
}
