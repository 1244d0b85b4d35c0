using System.Text.Json;
using Sandbox.E2E.Infrastructure;
using Sandbox.Testing;

namespace Sandbox.E2E.Capture;

/// <summary>
/// A screenshot of an unchanged screen reuses the last encode; any drawing, pointer motion or other
/// parameter must give a fresh one. Drawing is done by an independent X client (python3-xlib).
/// </summary>
public sealed class ScreenshotReuseTests
{
    private static async Task<(JsonElement Json, byte[] Bytes)> ShotAsync(ApplianceProcess app, string query = "")
    {
        var json = await app.GetJsonAsync("/screenshot" + query);
        var path = Path.Combine(app.SharedDir, json.GetProperty("screenshot_path").GetString()!);
        return (json, File.ReadAllBytes(path));
    }

    /// <summary>Fills a rectangle on the root window from another X connection and waits until the server did it.</summary>
    private static void Draw(XvfbServer x, int left, int top, int w, int h, uint rgb) =>
        Processes.Check(Repo.SystemPython, ["-c",
            "import sys\nfrom Xlib import X, display\nd = display.Display()\nr = d.screen().root\n" +
            "gc = r.create_gc(foreground=int(sys.argv[5]), subwindow_mode=X.IncludeInferiors)\n" +
            "r.fill_rectangle(gc, int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))\nd.sync()\n",
            left.ToString(), top.ToString(), w.ToString(), h.ToString(), rgb.ToString()], new Dictionary<string, string?>(x.Env));

    [Fact]
    public async Task Unchanged_screen_gives_the_same_bytes_in_a_new_file_and_any_change_gives_a_fresh_image()
    {
        using var x = XvfbServer.Start(800, 600);
        x.Paint(Repo.Scene("office.png"));
        using var app = ApplianceProcess.Start(x);
        x.MovePointer(100, 100);

        var (a, aBytes) = await ShotAsync(app);
        var (b, bBytes) = await ShotAsync(app);
        Assert.NotEqual(a.GetProperty("screenshot_path").GetString(), b.GetProperty("screenshot_path").GetString());
        Assert.Equal(aBytes, bBytes);
        Assert.Equal(aBytes.Length, b.GetProperty("bytes").GetInt64());
        // response=image with the same parameters: the same bytes again.
        Assert.Equal(aBytes, await app.Http.GetByteArrayAsync("/screenshot?response=image"));

        // Drawing by another client shows up at once.
        Draw(x, 300, 300, 10, 10, 0xff0000);
        var (_, cBytes) = await ShotAsync(app);
        Assert.Equal((255, 0, 0), ToTuple(Rgb.Decode(cBytes).At(305, 305)));
        Assert.NotEqual(aBytes, cBytes);
        Draw(x, 300, 300, 10, 10, 0x0000ff);
        Assert.Equal((0, 0, 255), ToTuple(Rgb.Decode((await ShotAsync(app)).Bytes).At(305, 305)));

        // Pointer motion alone (no damage) also gives a fresh image, with the new position.
        var (d, dBytes) = await ShotAsync(app);
        x.MovePointer(400, 200);
        var (e, eBytes) = await ShotAsync(app);
        Assert.Equal([400, 200], e.GetProperty("mouse_position").EnumerateArray().Select(v => v.GetInt32()));
        Assert.NotEqual(dBytes, eBytes);
        Assert.Equal(Rgb.Decode(eBytes).At(400, 200), Rgb.Decode(await app.Http.GetByteArrayAsync("/screenshot?response=image")).At(400, 200));

        // Other parameters are other images; a region shows the drawn pixels too.
        var (_, plain) = await ShotAsync(app, "?cursor=false&annotate=false");
        Assert.NotEqual(eBytes, plain);
        Assert.Equal((0, 0, 255), ToTuple(Rgb.Decode(plain).At(305, 305)));
        Draw(x, 0, 0, 4, 4, 0x00ff00);
        var (_, region) = await ShotAsync(app, "?cursor=false&annotate=false&region=0,0,8,8");
        Assert.Equal((0, 255, 0), ToTuple(Rgb.Decode(region).At(1, 1)));
        var jpeg1 = await app.Http.GetByteArrayAsync("/screenshot?response=image&format=jpeg&cursor=false&annotate=false");
        Draw(x, 500, 500, 40, 40, 0xffffff);
        var jpeg2 = await app.Http.GetByteArrayAsync("/screenshot?response=image&format=jpeg&cursor=false&annotate=false");
        Assert.NotEqual(jpeg1, jpeg2);
        var white = Rgb.Decode(jpeg2).At(520, 520);
        Assert.True(white.R > 240 && white.G > 240 && white.B > 240, $"JPEG shows {white} where white was drawn");
    }

    private static (int, int, int) ToTuple((byte R, byte G, byte B) p) => (p.R, p.G, p.B);
}
