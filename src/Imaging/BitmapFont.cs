namespace Sandbox.Imaging;

/// <summary>
/// Draws text in the built-in fixed-cell bitmap font (<see cref="FixedFont"/>, X11 misc-fixed 9x15,
/// printable ASCII; anything else is drawn as '?'). Drawing is clipped to the image, so any
/// position, including negative or off-image ones, is valid.
/// </summary>
internal static class BitmapFont
{
    public const int Advance = FixedFont.CellWidth;
    public const int Height = FixedFont.CellHeight;

    public static int MeasureWidth(ReadOnlySpan<char> text) => text.Length * Advance;

    /// <summary>Draws <paramref name="text"/> with the top-left of its first cell at (x, y).</summary>
    public static void DrawText(BgraImage dst, int x, int y, ReadOnlySpan<char> text, Rgb colour)
    {
        var rows = FixedFont.Rows;
        var clip = new PixelRect(0, 0, dst.Width, dst.Height);
        for (int i = 0; i < text.Length; i++)
        {
            // Long math: a far-off x plus many cells must not wrap back onto the image.
            long cellX = x + (long)i * Advance;
            if (cellX >= dst.Width) break;
            if (cellX + Advance <= 0) continue;
            var glyph = rows.Slice(GlyphIndex(text[i]) * Height, Height);
            for (int r = 0; r < Height; r++)
            {
                long py = (long)y + r;
                if (py < 0 || py >= dst.Height || glyph[r] == 0) continue;
                var row = dst.Row((int)py);
                for (int c = 0; c < Advance; c++)
                {
                    if ((glyph[r] & (0x8000 >> c)) == 0) continue;
                    long px = cellX + c;
                    if (px < 0 || px >= clip.Right) continue;
                    int o = (int)px * 4;
                    row[o] = colour.B;
                    row[o + 1] = colour.G;
                    row[o + 2] = colour.R;
                }
            }
        }
    }

    /// <summary>
    /// Draws <paramref name="text"/> in <paramref name="colour"/> over a 1 px halo of <paramref name="halo"/>
    /// around every stroke, which keeps it legible on any background. The halo reaches one pixel
    /// beyond the text cells on each side.
    /// </summary>
    public static void DrawTextWithHalo(BgraImage dst, int x, int y, ReadOnlySpan<char> text, Rgb colour, Rgb halo)
    {
        for (int dy = -1; dy <= 1; dy++)
            for (int dx = -1; dx <= 1; dx++)
                if (dx != 0 || dy != 0) DrawText(dst, x + dx, y + dy, text, halo);
        DrawText(dst, x, y, text, colour);
    }

    private static int GlyphIndex(char c) =>
        c is >= FixedFont.FirstChar and <= FixedFont.LastChar ? c - FixedFont.FirstChar : '?' - FixedFont.FirstChar;
}
