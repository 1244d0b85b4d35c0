using System.Globalization;
using Microsoft.AspNetCore.Http;
using Sandbox.Common;

namespace Sandbox.Capture;

internal enum ImageFormat { Png, Jpeg }

internal enum ScreenshotResponse { Json, Image, Base64 }

internal readonly record struct Region(int X, int Y, int Width, int Height);

/// <summary>The validated parameters of one screenshot. Unknown parameters are ignored, as FastAPI did.</summary>
internal sealed record ScreenshotRequest
{
    public ImageFormat Format { get; init; } = ImageFormat.Png;
    public int Quality { get; init; } = 80;
    public bool Cursor { get; init; } = true;
    public bool Annotate { get; init; } = true;
    public Region? Region { get; init; }
    public int? MaxWidth { get; init; }
    public int? MaxHeight { get; init; }
    public ScreenshotResponse Response { get; init; } = ScreenshotResponse.Json;

    /// <summary>Parses query parameters; throws a 400 <see cref="SandboxException"/> naming the first bad one.</summary>
    public static ScreenshotRequest Parse(IQueryCollection q, int maxEdge)
    {
        var method = Single(q, "method");
        if (method is not null && method is not ("pyautogui" or "pillow"))
            throw SandboxException.BadField("method", $"method must be 'pyautogui' or 'pillow', not '{method}'");

        var format = Single(q, "format")?.ToLowerInvariant() switch
        {
            null or "png" => ImageFormat.Png,
            "jpeg" or "jpg" => ImageFormat.Jpeg,
            var other => throw SandboxException.BadField("format", $"format must be 'png' or 'jpeg', not '{other}'"),
        };
        var response = Single(q, "response")?.ToLowerInvariant() switch
        {
            null or "json" => ScreenshotResponse.Json,
            "image" => ScreenshotResponse.Image,
            "base64" => ScreenshotResponse.Base64,
            var other => throw SandboxException.BadField("response", $"response must be 'json', 'image' or 'base64', not '{other}'"),
        };
        return new ScreenshotRequest
        {
            Format = format,
            Quality = Int(q, "quality", 1, 100) ?? 80,
            Cursor = Bool(q, "cursor") ?? true,
            Annotate = Bool(q, "annotate") ?? true,
            Region = ParseRegion(Single(q, "region"), maxEdge),
            MaxWidth = Int(q, "max_width", 1, maxEdge),
            MaxHeight = Int(q, "max_height", 1, maxEdge),
            Response = response,
        };
    }

    private static string? Single(IQueryCollection q, string name)
    {
        if (!q.TryGetValue(name, out var v) || v.Count == 0) return null;
        if (v.Count > 1) throw SandboxException.BadField(name, $"{name} is given more than once");
        return v[0];
    }

    public static int? Int(IQueryCollection q, string name, int min, int max)
    {
        var s = Single(q, name);
        if (s is null) return null;
        if (int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v >= min && v <= max) return v;
        throw SandboxException.BadField(name, $"{name} must be an integer from {min} to {max}, not '{s}'");
    }

    public static bool? Bool(IQueryCollection q, string name)
    {
        var s = Single(q, name);
        if (s is null) return null;
        return Lookup.Flag(s) ?? throw SandboxException.BadField(name, $"{name} must be true or false, not '{s}'");
    }

    /// <summary>Every parameter /screenshot reads: the action API's screenshot options and the OpenAPI document use this list.</summary>
    internal static readonly string[] ParameterNames =
        ["method", "format", "quality", "cursor", "annotate", "region", "max_width", "max_height", "response"];

    private const int MaxCoordinate = 65535;

    private static Region? ParseRegion(string? s, int maxEdge)
    {
        if (s is null) return null;
        var parts = s.Split(',');
        var v = new int[4];
        if (parts.Length != 4 || !parts.Select((p, i) => int.TryParse(p.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out v[i])).All(ok => ok))
            throw SandboxException.BadField("region", $"region must be 'x,y,width,height' in integers, not '{s}'");
        // X coordinates are 16-bit; bounding x and y also keeps x + width from overflowing later.
        if (v[0] < 0 || v[1] < 0 || v[0] > MaxCoordinate || v[1] > MaxCoordinate || v[2] <= 0 || v[3] <= 0 || v[2] > maxEdge || v[3] > maxEdge)
            throw SandboxException.BadField("region", $"region '{s}' must have x,y from 0 to {MaxCoordinate} and a width and height from 1 to {maxEdge}");
        return new Region(v[0], v[1], v[2], v[3]);
    }
}
