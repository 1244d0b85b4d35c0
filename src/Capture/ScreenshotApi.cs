using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using System.Text.Json.Serialization;
using Sandbox.Common;

namespace Sandbox.Capture;

internal sealed record ScreenshotAnswer(
    string? ScreenshotPath,
    int[] MousePosition,
    int[] ScreenSize,
    int[] ImageSize,
    double[] Scale,
    int[]? Region,
    string Format,
    long Bytes,
    string? Image);

internal sealed record CursorPosition(int X, int Y);

internal sealed record ScreenSize(int Width, int Height);

internal static class ScreenshotApi
{
    public static IEndpointRouteBuilder MapScreenshotApi(this IEndpointRouteBuilder app, ScreenshotService screenshots, ApplianceOptions options)
    {
        app.MapGet("/screenshot", async (HttpContext http) =>
        {
            var request = ScreenshotRequest.Parse(http.Request.Query, options.MaxImageEdge);
            switch (request.Response)
            {
                case ScreenshotResponse.Image:
                {
                    // Encoded into native memory while the capture is held; sent after it is released,
                    // so a slow client never delays the next screenshot. The lease is the service's kept
                    // encode itself (no copy); the next encode leaves it alone until it is disposed.
                    using var lease = screenshots.RenderLease(request);
                    var (info, buffer) = (lease.Info, lease.Bytes);
                    http.Response.ContentType = request.Format == ImageFormat.Png ? "image/png" : "image/jpeg";
                    http.Response.ContentLength = buffer.Length;
                    http.Response.Headers["X-Mouse-Position"] = $"{info.MousePosition[0]},{info.MousePosition[1]}";
                    http.Response.Headers["X-Screen-Size"] = $"{info.ScreenSize[0]}x{info.ScreenSize[1]}";
                    http.Response.Headers["X-Scale"] = FormattableString.Invariant($"{info.Scale[0]:R},{info.Scale[1]:R}");
                    await buffer.WriteToAsync(http.Response.Body, http.RequestAborted);
                    return Results.Empty;
                }
                case ScreenshotResponse.Base64:
                {
                    var (info, base64) = screenshots.RenderBase64(request);
                    return Results.Json(Answer(info, null, base64), CaptureJson.Default.ScreenshotAnswer);
                }
                default:
                {
                    // On the request's own thread, like response=image: a hop to another pool thread only added latency.
                    var (info, path) = screenshots.Save(request);
                    return Results.Json(Answer(info, path, null), CaptureJson.Default.ScreenshotAnswer);
                }
            }
        });

        app.MapGet("/cursor_position", () =>
        {
            var (x, y) = screenshots.Capture.Pointer();
            return Results.Json(new CursorPosition(x, y), CaptureJson.Default.CursorPosition);
        });

        app.MapGet("/screen_size", () =>
        {
            var (w, h) = screenshots.Capture.ScreenSize();
            return Results.Json(new ScreenSize(w, h), CaptureJson.Default.ScreenSize);
        });
        return app;
    }

    private static ScreenshotAnswer Answer(ScreenshotInfo i, string? path, string? image) =>
        new(path, i.MousePosition, i.ScreenSize, i.ImageSize, i.Scale, i.Region, i.Format, i.Bytes, image);
}

/// <summary>The capture area's JSON payloads (snake_case, as every REST answer).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ScreenshotAnswer))]
[JsonSerializable(typeof(CursorPosition))]
[JsonSerializable(typeof(ScreenSize))]
internal sealed partial class CaptureJson : JsonSerializerContext;
