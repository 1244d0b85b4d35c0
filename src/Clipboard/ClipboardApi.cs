using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Sandbox.Common;
using Sandbox.Web;

namespace Sandbox.Clipboard;

/// <summary>
/// <c>GET /clipboard?selection=clipboard|primary&amp;type=text|image</c> answers the content as its own
/// media type; <c>PUT /clipboard[?selection=...]</c> takes a text/plain (UTF-8) or image/png body, or
/// JSON <c>{"text": ...}</c>. See docs/clipboard.md.
/// </summary>
internal static class ClipboardApi
{
    public static IEndpointRouteBuilder MapClipboardApi(this IEndpointRouteBuilder app, ClipboardService clipboard)
    {
        app.MapGet("/clipboard", async Task<IResult> (HttpContext http) =>
        {
            var q = http.Request.Query;
            var selection = ClipboardContent.ParseSelection(q["selection"]);
            var kind = ClipboardContent.ParseKind(q["type"]);
            var content = await clipboard.GetAsync(selection, kind);
            http.Response.Headers.CacheControl = "no-store";
            return Results.Bytes(content.Data, content.MediaType);
        });

        app.MapPut("/clipboard", async Task<IResult> (HttpContext http) =>
        {
            var selection = ClipboardContent.ParseSelection(http.Request.Query["selection"]);
            ClipboardContent content;
            if (JsonBody.IsJson(http.Request))
            {
                var body = await JsonBody.ReadAsync(http.Request, ClipboardJson.Default.ClipboardSetRequest, ct: http.RequestAborted);
                if (body!.Text is null) throw SandboxException.BadField("text", "text is required (or send a text/plain or image/png body)");
                if (body.Selection is not null) selection = ClipboardContent.ParseSelection(body.Selection);
                content = ClipboardContent.FromText(body.Text);
            }
            else
            {
                var kind = KindOf(http.Request.ContentType);
                var data = await ReadBody(http, clipboard.Options.MaxBytes);
                content = ClipboardContent.Validated(kind, data);
            }
            await clipboard.SetAsync(selection, content);
            return Results.Json(new ClipboardSetAnswer(selection == ClipboardSelection.Clipboard ? "clipboard" : "primary",
                content.Kind == ClipboardKind.Text ? "text" : "image", content.Data.Length), ClipboardJson.Default.ClipboardSetAnswer);
        }).WithMetadata(new BodyTypes("text/plain", "image/png"));
        return app;
    }

    private static ClipboardKind KindOf(string? contentType)
    {
        if (contentType is null) throw SandboxException.UnsupportedMediaType("send the content as text/plain (UTF-8) or image/png");
        var media = JsonBody.MediaType(contentType);
        if (media.Equals("image/png", StringComparison.OrdinalIgnoreCase)) return ClipboardKind.Image;
        if (!media.Equals("text/plain", StringComparison.OrdinalIgnoreCase))
            throw SandboxException.UnsupportedMediaType($"{media}: send text/plain (UTF-8) or image/png");
        var charset = contentType.Split(';').Skip(1).Select(p => p.Trim())
            .FirstOrDefault(p => p.StartsWith("charset=", StringComparison.OrdinalIgnoreCase))?["charset=".Length..].Trim('"');
        if (charset is not null && !charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase)
            && !charset.Equals("utf8", StringComparison.OrdinalIgnoreCase) && !charset.Equals("us-ascii", StringComparison.OrdinalIgnoreCase))
            throw SandboxException.UnsupportedMediaType($"charset={charset}: text must be UTF-8");
        return ClipboardKind.Text;
    }

    /// <summary>Reads the whole body up to the clipboard's own limit (larger than the appliance's default body limit).</summary>
    private static async Task<byte[]> ReadBody(HttpContext http, int maxBytes)
    {
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
            limit.MaxRequestBodySize = maxBytes;
        if (http.Request.ContentLength > maxBytes)
            throw SandboxException.TooLarge($"the body is {http.Request.ContentLength} bytes; the limit is {maxBytes} (SANDBOX_CLIPBOARD_MAX_BYTES)");
        using var memory = new MemoryStream(http.Request.ContentLength is { } n ? (int)n : 4096);
        var buffer = new byte[81920];
        int read;
        try
        {
            while ((read = await http.Request.Body.ReadAsync(buffer, http.RequestAborted)) > 0)
            {
                if (memory.Length + read > maxBytes)
                    throw SandboxException.TooLarge($"the body is larger than {maxBytes} bytes (SANDBOX_CLIPBOARD_MAX_BYTES)");
                memory.Write(buffer, 0, read);
            }
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            throw SandboxException.TooLarge($"the body is larger than {maxBytes} bytes (SANDBOX_CLIPBOARD_MAX_BYTES)");
        }
        return memory.ToArray();
    }
}
