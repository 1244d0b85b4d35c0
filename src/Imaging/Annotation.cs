namespace Sandbox.Imaging;

/// <summary>Where the pointer mark goes: the box, the label's text origin and the label with its halo.</summary>
internal readonly record struct AnnotationLayout(PixelRect Box, PixelRect Label, int TextX, int TextY, string Text)
{
    /// <summary>Every pixel the mark may change, clipped to the screen.</summary>
    public PixelRect Bounds(int screenWidth, int screenHeight) =>
        Box.Union(Label).Intersect(new PixelRect(0, 0, screenWidth, screenHeight));
}

/// <summary>
/// The old suite's pointer mark: a 2 px red square around the pointer and the red label
/// <c>mouse: x=X y=Y</c> above it. The label has a 1 px white halo around its strokes (rather than a
/// filled plate) so it reads on dark, light and red scenes while hiding as little of the screen as
/// possible. The label is kept wholly on screen: pushed left/right at the side edges and moved below
/// the box when there is no room above. The box itself is simply clipped.
/// </summary>
internal static class Annotation
{
    /// <summary>The box spans pointer ± this, inclusive (21 px square), as Pillow's rectangle did.</summary>
    public const int BoxHalfSize = 10;
    public const int BoxLineWidth = 2;
    /// <summary>Pixels between the box and the label's halo.</summary>
    public const int LabelGap = 2;
    public const int Halo = 1;

    public static Rgb Colour => Rgb.Red;
    public static Rgb HaloColour => Rgb.White;

    public static string LabelText(int pointerX, int pointerY) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"mouse: x={pointerX} y={pointerY}");

    public static AnnotationLayout Layout(int pointerX, int pointerY, int screenWidth, int screenHeight)
    {
        var text = LabelText(pointerX, pointerY);
        var box = new PixelRect(pointerX - BoxHalfSize, pointerY - BoxHalfSize, 2 * BoxHalfSize + 1, 2 * BoxHalfSize + 1);
        int labelWidth = BitmapFont.MeasureWidth(text) + 2 * Halo;
        int labelHeight = BitmapFont.Height + 2 * Halo;

        int labelX = Math.Max(0, Math.Min(box.X, screenWidth - labelWidth));
        int labelY = box.Y - LabelGap - labelHeight;
        if (labelY < 0) labelY = box.Bottom + LabelGap;
        labelY = Math.Max(0, Math.Min(labelY, screenHeight - labelHeight));

        var label = new PixelRect(labelX, labelY, labelWidth, labelHeight);
        return new AnnotationLayout(box, label, labelX + Halo, labelY + Halo, text);
    }

    /// <summary>The union of every pixel <see cref="Draw"/> may change, clipped to the screen.</summary>
    public static PixelRect Bounds(int pointerX, int pointerY, int screenWidth, int screenHeight) =>
        Layout(pointerX, pointerY, screenWidth, screenHeight).Bounds(screenWidth, screenHeight);

    /// <summary>Draws the mark for a pointer at (pointerX, pointerY) into <paramref name="dst"/>.</summary>
    public static AnnotationLayout Draw(BgraImage dst, int pointerX, int pointerY)
    {
        var layout = Layout(pointerX, pointerY, dst.Width, dst.Height);
        DrawBox(dst, layout.Box);
        BitmapFont.DrawTextWithHalo(dst, layout.TextX, layout.TextY, layout.Text, Colour, HaloColour);
        return layout;
    }

    private static void DrawBox(BgraImage dst, PixelRect box)
    {
        var visible = box.Intersect(new PixelRect(0, 0, dst.Width, dst.Height));
        var inner = PixelRect.FromEdges(box.X + BoxLineWidth, box.Y + BoxLineWidth, box.Right - BoxLineWidth, box.Bottom - BoxLineWidth);
        var colour = Colour;
        for (int y = visible.Y; y < visible.Bottom; y++)
        {
            var row = dst.Row(y);
            for (int x = visible.X; x < visible.Right; x++)
            {
                if (inner.Contains(x, y)) { x = inner.Right - 1; continue; }
                int o = x * 4;
                row[o] = colour.B;
                row[o + 1] = colour.G;
                row[o + 2] = colour.R;
            }
        }
    }
}
