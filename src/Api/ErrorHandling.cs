using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Sandbox.Display;

namespace Sandbox.Api;

/// <summary>
/// Turns every failure into a JSON <c>{"reason","message"}</c> answer: 400 for bad input, 503 when the
/// display is unavailable, 500 (with a message, never a stack trace) for our own bugs, which are logged.
/// </summary>
internal static class ErrorHandling
{
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
                    ApiException a => ApiResults.Error(a),
                    DisplayUnavailableException d => ApiResults.Error(StatusCodes.Status503ServiceUnavailable, "Service Unavailable", d.Message),
                    BadHttpRequestException b => ApiResults.Error(b.StatusCode, "Bad Request", b.Message),
                    _ => null,
                };
                if (result is null)
                {
                    log.LogError(e, "unhandled error on {Method} {Path}", http.Request.Method, http.Request.Path);
                    result = ApiResults.Error(StatusCodes.Status500InternalServerError, "Internal Server Error",
                        $"{e.GetType().Name}: {e.Message}");
                }
                http.Response.Clear();
                await result.ExecuteAsync(http);
            }
        });
}
