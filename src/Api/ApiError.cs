using Microsoft.AspNetCore.Http;
using Sandbox.Hosting;

namespace Sandbox.Api;

/// <summary>The one error body of every endpoint: <c>{"reason": "...", "message": "..."}</c>.</summary>
internal sealed record ApiError(string Reason, string Message);

/// <summary>A request that cannot be served; turned into a JSON error response by the endpoint filter.</summary>
internal sealed class ApiException(int status, string reason, string message) : Exception(message)
{
    public int Status { get; } = status;
    public string Reason { get; } = reason;

    public static ApiException BadRequest(string message) => new(StatusCodes.Status400BadRequest, "Bad Request", message);
    public static ApiException Unavailable(string message) => new(StatusCodes.Status503ServiceUnavailable, "Service Unavailable", message);
    public static ApiException InsufficientStorage(string message) => new(StatusCodes.Status507InsufficientStorage, "Insufficient Storage", message);
}

internal static class ApiResults
{
    public static IResult Error(int status, string reason, string message) =>
        Results.Json(new ApiError(reason, message), AppJson.Default.ApiError, statusCode: status);

    public static IResult Error(ApiException e) => Error(e.Status, e.Reason, e.Message);
}
