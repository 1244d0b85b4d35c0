using StbImageSharp;

namespace Sandbox.Testing;

/// <summary>Decoded RGB pixels of a PNG/JPEG, for exact comparisons (decoded by StbImageSharp, not our code).</summary>
public sealed class Rgb
{
    public Rgb(int width, int height, byte[] data)
    {
        Width = width;
        Height = height;
        Data = data;
    }

    public int Width { get; }
    public int Height { get; }
    public byte[] Data { get; }

    public static Rgb Decode(byte[] encoded)
    {
        var r = ImageResult.FromMemory(encoded, ColorComponents.RedGreenBlue);
        return new Rgb(r.Width, r.Height, r.Data);
    }

    public static Rgb Load(string path) => Decode(File.ReadAllBytes(path));

    public (byte R, byte G, byte B) At(int x, int y)
    {
        var i = (y * Width + x) * 3;
        return (Data[i], Data[i + 1], Data[i + 2]);
    }

    /// <summary>Pixels that differ from <paramref name="expected"/> at (x+ox, y+oy), skipping excluded rectangles.</summary>
    public List<(int X, int Y)> Differences(Rgb expected, int ox = 0, int oy = 0, params (int X, int Y, int W, int H)[] excluded)
    {
        var diffs = new List<(int, int)>();
        for (var y = 0; y < Height; y++)
        for (var x = 0; x < Width; x++)
        {
            int sx = x + ox, sy = y + oy;
            if (excluded.Any(r => sx >= r.X && sx < r.X + r.W && sy >= r.Y && sy < r.Y + r.H)) continue;
            if (At(x, y) != expected.At(sx, sy)) diffs.Add((sx, sy));
        }
        return diffs;
    }

    /// <summary>Bounding box of the given points, or null.</summary>
    public static (int X, int Y, int W, int H)? Bounds(IReadOnlyList<(int X, int Y)> points) =>
        points.Count == 0 ? null : (points.Min(p => p.X), points.Min(p => p.Y),
            points.Max(p => p.X) - points.Min(p => p.X) + 1, points.Max(p => p.Y) - points.Min(p => p.Y) + 1);
}
