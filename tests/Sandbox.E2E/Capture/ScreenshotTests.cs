using System.Net;
using System.Text.Json;
using Sandbox.E2E.Infrastructure;
using Sandbox.Testing;

namespace Sandbox.E2E.Capture;

/// <summary>Screenshots from the published binary, compared pixel by pixel with the painted scene.</summary>
public sealed class ScreenshotTests(ScreenshotFixture f) : IClassFixture<ScreenshotFixture>
{
    // Where the cursor and the annotation (box and label above-right of the pointer) may draw,
    // relative to the pointer, when the pointer is well inside the screen.
    private static (int X, int Y, int W, int H) OverlayWindow(int px, int py) => (px - 40, py - 60, 320, 110);

    private static bool Inside((int X, int Y) p, (int X, int Y, int W, int H) r) =>
        p.X >= r.X && p.X < r.X + r.W && p.Y >= r.Y && p.Y < r.Y + r.H;

    private async Task<(JsonElement Json, Rgb Image)> ShotAsync(string query = "")
    {
        var json = await f.App.GetJsonAsync("/screenshot" + query);
        var path = Path.Combine(f.App.SharedDir, json.GetProperty("screenshot_path").GetString()!);
        return (json, Rgb.Load(path));
    }

    [Fact]
    public async Task Default_answer_is_the_old_suites_and_only_the_overlay_differs_from_the_screen()
    {
        f.X.MovePointer(700, 500);
        var (json, image) = await ShotAsync();

        var rel = json.GetProperty("screenshot_path").GetString()!;
        Assert.StartsWith("screenshots/", rel);
        Assert.EndsWith(".png", rel);
        Assert.Equal([700, 500], json.GetProperty("mouse_position").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal([1920, 1080], json.GetProperty("screen_size").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal((1920, 1080), (image.Width, image.Height));

        var diffs = image.Differences(f.Scene);
        Assert.NotEmpty(diffs);
        var window = OverlayWindow(700, 500);
        Assert.All(diffs, d => Assert.True(Inside(d, window), $"pixel {d} differs outside the overlay"));
        // The red box: pure red pixels on the box's edge, left of the pointer.
        Assert.Contains(diffs, d => image.At(d.X, d.Y) == (255, 0, 0) && d.X < 700 && Math.Abs(d.Y - 500) < 15);
    }

    [Fact]
    public async Task Without_cursor_and_annotation_every_pixel_is_the_screens()
    {
        f.X.MovePointer(300, 300);
        var (_, image) = await ShotAsync("?cursor=false&annotate=false");
        Assert.Empty(image.Differences(f.Scene));
    }

    [Fact]
    public async Task Cursor_is_composited_at_the_pointer_where_xdotool_put_it()
    {
        f.X.MovePointer(1000, 300);
        Assert.Equal((1000, 300), f.X.PointerPosition());
        var (json, image) = await ShotAsync("?annotate=false");
        Assert.Equal([1000, 300], json.GetProperty("mouse_position").EnumerateArray().Select(e => e.GetInt32()));
        var diffs = image.Differences(f.Scene);
        Assert.NotEmpty(diffs);
        var box = Rgb.Bounds(diffs)!.Value;
        // Xvfb's default cursor is a small glyph centred on its hotspot: the drawn pixels surround the pointer.
        Assert.InRange(box.X, 1000 - 32, 1000);
        Assert.InRange(box.Y, 300 - 32, 300);
        Assert.InRange(box.X + box.W, 1001, 1000 + 32);
        Assert.InRange(box.Y + box.H, 301, 300 + 32);
    }

    [Fact]
    public async Task Cursor_is_clipped_at_the_screen_corner()
    {
        f.X.MovePointer(0, 0);
        var (_, image) = await ShotAsync("?annotate=false");
        var diffs = image.Differences(f.Scene);
        Assert.NotEmpty(diffs);
        Assert.All(diffs, d => Assert.True(d.X < 32 && d.Y < 32));
    }

    [Fact]
    public async Task Region_is_an_exact_crop()
    {
        var (json, image) = await ShotAsync("?region=100,200,300,150&cursor=false&annotate=false");
        Assert.Equal((300, 150), (image.Width, image.Height));
        Assert.Equal([100, 200, 300, 150], json.GetProperty("region").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Empty(image.Differences(f.Scene, 100, 200));
    }

    [Fact]
    public async Task Max_width_downscales_keeping_the_aspect_and_reports_the_scale()
    {
        var (json, image) = await ShotAsync("?max_width=960&cursor=false&annotate=false");
        Assert.Equal((960, 540), (image.Width, image.Height));
        Assert.Equal([0.5, 0.5], json.GetProperty("scale").EnumerateArray().Select(e => e.GetDouble()));
        Assert.Equal([960, 540], json.GetProperty("image_size").EnumerateArray().Select(e => e.GetInt32()));
        // Against a 2x2 box average of the scene computed here: a good downscale stays close to it.
        double err = 0;
        for (var y = 0; y < 540; y++)
        for (var x = 0; x < 960; x++)
        {
            var (r, g, b) = image.At(x, y);
            int er = 0, eg = 0, eb = 0;
            for (var k = 0; k < 4; k++)
            {
                var p = f.Scene.At(2 * x + (k & 1), 2 * y + (k >> 1));
                er += p.R; eg += p.G; eb += p.B;
            }
            err += Math.Abs(r - er / 4.0) + Math.Abs(g - eg / 4.0) + Math.Abs(b - eb / 4.0);
        }
        Assert.True(err / (960 * 540 * 3) < 3.0, $"mean error {err / (960 * 540 * 3):F2}");
    }

    [Fact]
    public async Task Jpeg_is_served_as_an_image_close_to_the_screen()
    {
        using var r = await f.App.Http.GetAsync("/screenshot?format=jpeg&quality=90&response=image&cursor=false&annotate=false");
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal("image/jpeg", r.Content.Headers.ContentType!.MediaType);
        var bytes = await r.Content.ReadAsByteArrayAsync();
        Assert.Equal([0xFF, 0xD8], bytes[..2]);
        var image = Rgb.Decode(bytes);
        Assert.Equal((1920, 1080), (image.Width, image.Height));
        double err = 0;
        for (var i = 0; i < image.Data.Length; i++) err += Math.Abs(image.Data[i] - f.Scene.Data[i]);
        Assert.True(err / image.Data.Length < 6, $"mean error {err / image.Data.Length:F2}");
    }

    [Fact]
    public async Task Response_image_streams_the_png_and_writes_no_file()
    {
        var before = Directory.Exists(Path.Combine(f.App.SharedDir, "screenshots"))
            ? Directory.GetFiles(Path.Combine(f.App.SharedDir, "screenshots")).Length : 0;
        f.X.MovePointer(640, 480);
        using var r = await f.App.Http.GetAsync("/screenshot?response=image&cursor=false&annotate=false");
        Assert.Equal("image/png", r.Content.Headers.ContentType!.MediaType);
        Assert.Equal("640,480", r.Headers.GetValues("X-Mouse-Position").Single());
        var image = Rgb.Decode(await r.Content.ReadAsByteArrayAsync());
        Assert.Empty(image.Differences(f.Scene));
        var after = Directory.Exists(Path.Combine(f.App.SharedDir, "screenshots"))
            ? Directory.GetFiles(Path.Combine(f.App.SharedDir, "screenshots")).Length : 0;
        Assert.Equal(before, after);
    }

    [Fact]
    public async Task Response_base64_embeds_the_png_in_json()
    {
        var json = await f.App.GetJsonAsync("/screenshot?response=base64&cursor=false&annotate=false&region=10,20,64,48");
        Assert.Equal(JsonValueKind.Null, json.TryGetProperty("screenshot_path", out var p) ? p.ValueKind : JsonValueKind.Null);
        var image = Rgb.Decode(Convert.FromBase64String(json.GetProperty("image").GetString()!));
        Assert.Equal((64, 48), (image.Width, image.Height));
        Assert.Empty(image.Differences(f.Scene, 10, 20));
    }

    [Theory]
    [InlineData("format=gif", "format")]
    [InlineData("quality=0", "quality")]
    [InlineData("quality=abc", "quality")]
    [InlineData("region=1,2,3", "region")]
    [InlineData("region=0,0,0,10", "region")]
    [InlineData("region=1900,1000,100,100", "region")]
    [InlineData("max_width=-5", "max_width")]
    [InlineData("max_height=100000", "max_height")]
    [InlineData("response=xml", "response")]
    [InlineData("cursor=maybe", "cursor")]
    [InlineData("method=scrot", "method")]
    [InlineData("format=png&format=jpeg", "format")]
    public async Task Bad_parameters_get_400_naming_them(string query, string name)
    {
        using var r = await f.App.Http.GetAsync("/screenshot?" + query);
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        var body = JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("Bad Request", body.GetProperty("reason").GetString());
        Assert.Contains(name, body.GetProperty("message").GetString());
    }

    [Fact]
    public async Task Cursor_position_and_screen_size_match_the_x_server()
    {
        f.X.MovePointer(123, 456);
        var pos = await f.App.GetJsonAsync("/cursor_position");
        Assert.Equal((123, 456), (pos.GetProperty("x").GetInt32(), pos.GetProperty("y").GetInt32()));
        var size = await f.App.GetJsonAsync("/screen_size");
        Assert.Equal((1920, 1080), (size.GetProperty("width").GetInt32(), size.GetProperty("height").GetInt32()));
    }

    [Fact]
    public async Task Health_reports_the_display()
    {
        var h = await f.App.GetJsonAsync("/health");
        Assert.Equal("ok", h.GetProperty("status").GetString());
        var d = h.GetProperty("display");
        Assert.Equal(f.X.Display, d.GetProperty("name").GetString());
        Assert.Equal("connected", d.GetProperty("state").GetString());
        Assert.True(d.GetProperty("shared_memory").GetBoolean());
        Assert.Equal([1920, 1080], d.GetProperty("screen_size").EnumerateArray().Select(e => e.GetInt32()));
    }
}
