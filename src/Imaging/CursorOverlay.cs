namespace Sandbox.Imaging;

/// <summary>Composites the pointer's cursor image (as XFixes reports it) into a captured frame.</summary>
internal static class CursorOverlay
{
    /// <summary>
    /// Draws a premultiplied ARGB cursor (one uint per pixel, alpha in the high byte, rows of
    /// <paramref name="cursorWidth"/>) with its top-left at (x, y) — the pointer minus the hotspot —
    /// using premultiplied "over": dst = src + dst·(255−a)/255, rounded to nearest, saturated at 255.
    /// Clipped on every edge; the fourth (padding) byte of the destination is left as it was.
    /// </summary>
    public static void Composite(BgraImage dst, ReadOnlySpan<uint> argbPremultiplied, int cursorWidth, int cursorHeight, int x, int y)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(cursorWidth);
        ArgumentOutOfRangeException.ThrowIfNegative(cursorHeight);
        if (argbPremultiplied.Length < (long)cursorWidth * cursorHeight)
            throw new ArgumentException($"Cursor image has {argbPremultiplied.Length} pixels, expected {cursorWidth}x{cursorHeight}.", nameof(argbPremultiplied));

        // Long math so a cursor placed near int.MaxValue cannot wrap onto the screen.
        int left = (int)Math.Max(0, (long)x), top = (int)Math.Max(0, (long)y);
        int right = (int)Math.Min(dst.Width, (long)x + cursorWidth), bottom = (int)Math.Min(dst.Height, (long)y + cursorHeight);
        for (int py = top; py < bottom; py++)
        {
            var row = dst.Row(py);
            var src = argbPremultiplied.Slice((py - y) * cursorWidth, cursorWidth);
            for (int px = left; px < right; px++)
            {
                uint p = src[px - x];
                if (p == 0) continue;   // fully transparent: the common case around the arrow
                int o = px * 4;
                uint a = p >> 24;
                if (a == 255)
                {
                    row[o] = (byte)p;
                    row[o + 1] = (byte)(p >> 8);
                    row[o + 2] = (byte)(p >> 16);
                    continue;
                }
                uint inverse = 255 - a;
                row[o] = Over((byte)p, row[o], inverse);
                row[o + 1] = Over((byte)(p >> 8), row[o + 1], inverse);
                row[o + 2] = Over((byte)(p >> 16), row[o + 2], inverse);
            }
        }
    }

    /// <summary>src + round(dst·inverse/255), saturated (malformed cursors may have colour > alpha).</summary>
    internal static byte Over(byte src, byte dst, uint inverse) => (byte)Math.Min(255u, src + Div255(dst * inverse));

    /// <summary>round(t / 255) for t in [0, 255·255], exact, without a division.</summary>
    internal static uint Div255(uint t)
    {
        t += 128;
        return (t + (t >> 8)) >> 8;
    }
}
