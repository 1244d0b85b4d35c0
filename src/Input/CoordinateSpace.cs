using Sandbox.Imaging;

namespace Sandbox.Input;

/// <summary>
/// The coordinate space the client's points are in: the screen itself, or a downscaled screenshot of
/// it, named either by the max_width/max_height the screenshot was taken with or by the scale it
/// reported. Mapping back uses the screenshot's integer size, so it is exact: scaled pixel x covers
/// screen pixels from x·W/w, and that is the pixel acted on (rounded to nearest), the inverse of
/// /screenshot's <c>scale</c> (<c>original = scaled / scale</c>).
/// </summary>
internal sealed record CoordinateSpace
{
    public static readonly CoordinateSpace Screen = new();

    public int? MaxWidth { get; init; }
    public int? MaxHeight { get; init; }
    public double? ScaleX { get; init; }
    public double? ScaleY { get; init; }

    public bool IsScreen => MaxWidth is null && MaxHeight is null && ScaleX is null;

    /// <summary>The size of the client's image of a screen of the given size.</summary>
    public (int Width, int Height) ImageSize(int screenWidth, int screenHeight)
    {
        if (ScaleX is { } sx && ScaleY is { } sy)
            return (Math.Max(1, (int)Math.Round(screenWidth * sx)), Math.Max(1, (int)Math.Round(screenHeight * sy)));
        if (MaxWidth is null && MaxHeight is null) return (screenWidth, screenHeight);
        return Resampler.FitWithin(screenWidth, screenHeight, MaxWidth ?? int.MaxValue, MaxHeight ?? int.MaxValue);
    }

    /// <summary>Client point → screen pixel (not range-checked).</summary>
    public (long X, long Y) ToScreen(ClientPoint p, int screenWidth, int screenHeight)
    {
        var (w, h) = ImageSize(screenWidth, screenHeight);
        return (Map(p.X, screenWidth, w), Map(p.Y, screenHeight, h));
    }

    /// <summary>Screen pixel → client point (rounded to the client's pixel grid).</summary>
    public (int X, int Y) FromScreen(int x, int y, int screenWidth, int screenHeight)
    {
        var (w, h) = ImageSize(screenWidth, screenHeight);
        return ((int)Map(x, w, screenWidth), (int)Map(y, h, screenHeight));
    }

    private static long Map(double v, int to, int from)
    {
        if (to == from) return RoundHalfUp(v);
        // v·to/from in double is exact for every pixel value a screen can have (all below 2^26).
        return RoundHalfUp(v * to / from);
    }

    private static long RoundHalfUp(double v) =>
        double.IsFinite(v) ? (long)Math.Clamp(Math.Floor(v + 0.5), long.MinValue / 2, long.MaxValue / 2) : long.MinValue / 2;
}
