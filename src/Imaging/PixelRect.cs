namespace Sandbox.Imaging;

/// <summary>An axis-aligned pixel rectangle; <see cref="Right"/> and <see cref="Bottom"/> are exclusive.</summary>
internal readonly record struct PixelRect(int X, int Y, int Width, int Height)
{
    public static PixelRect Empty => default;

    public int Right => X + Width;
    public int Bottom => Y + Height;
    public bool IsEmpty => Width <= 0 || Height <= 0;

    public bool Contains(int x, int y) => x >= X && x < Right && y >= Y && y < Bottom;

    public static PixelRect FromEdges(int left, int top, int right, int bottom) =>
        right <= left || bottom <= top ? Empty : new PixelRect(left, top, right - left, bottom - top);

    public PixelRect Intersect(PixelRect other) =>
        FromEdges(Math.Max(X, other.X), Math.Max(Y, other.Y), Math.Min(Right, other.Right), Math.Min(Bottom, other.Bottom));

    /// <summary>The smallest rectangle holding both; an empty operand is ignored.</summary>
    public PixelRect Union(PixelRect other) =>
        IsEmpty ? other : other.IsEmpty ? this
        : FromEdges(Math.Min(X, other.X), Math.Min(Y, other.Y), Math.Max(Right, other.Right), Math.Max(Bottom, other.Bottom));
}

/// <summary>An opaque sRGB colour for drawing.</summary>
internal readonly record struct Rgb(byte R, byte G, byte B)
{
    public static Rgb Red => new(255, 0, 0);
    public static Rgb White => new(255, 255, 255);
    public static Rgb Black => new(0, 0, 0);
}
