using Sandbox.Imaging;
using Sandbox.Input;

namespace Sandbox.Tests.Input;

public sealed class CoordinateSpaceTests
{
    [Fact]
    public void The_screen_space_is_the_identity_with_rounding()
    {
        var s = CoordinateSpace.Screen;
        Assert.Equal((10L, 20L), s.ToScreen(new ClientPoint(10, 20), 1920, 1080));
        Assert.Equal((11L, 20L), s.ToScreen(new ClientPoint(10.5, 19.6), 1920, 1080));
    }

    [Fact]
    public void Max_size_maps_through_the_same_size_the_screenshot_had()
    {
        var s = new CoordinateSpace { MaxWidth = 1280, MaxHeight = 800 };
        Assert.Equal(Resampler.FitWithin(1920, 1080, 1280, 800), s.ImageSize(1920, 1080));
        Assert.Equal((1280, 720), s.ImageSize(1920, 1080));
        Assert.Equal((960L, 540L), s.ToScreen(new ClientPoint(640, 360), 1920, 1080));
        Assert.Equal((0L, 0L), s.ToScreen(new ClientPoint(0, 0), 1920, 1080));
        Assert.Equal((1919L, 1079L), s.ToScreen(new ClientPoint(1279.33, 719.33), 1920, 1080));
    }

    [Fact]
    public void Every_scaled_pixel_maps_back_to_the_left_edge_of_its_footprint_at_half_size()
    {
        var s = new CoordinateSpace { MaxWidth = 960 };
        for (var x = 0; x < 960; x++)
            Assert.Equal(2L * x, s.ToScreen(new ClientPoint(x, 0), 1920, 1080).X);
    }

    [Fact]
    public void Mapping_back_and_forth_is_exact_on_the_client_grid()
    {
        // Whatever the ratio, a client pixel maps to a screen pixel that maps back to the same client pixel.
        foreach (var (mw, mh) in new[] { (1280, 800), (1024, 768), (1366, 768), (333, 200) })
        {
            var s = new CoordinateSpace { MaxWidth = mw, MaxHeight = mh };
            var (w, h) = s.ImageSize(1920, 1080);
            for (var x = 0; x < w; x++)
            {
                var (sx, _) = s.ToScreen(new ClientPoint(x, 0), 1920, 1080);
                Assert.InRange(sx, 0, 1919);
                Assert.Equal(x, s.FromScreen((int)sx, 0, 1920, 1080).X);
            }
            for (var y = 0; y < h; y++)
            {
                var (_, sy) = s.ToScreen(new ClientPoint(0, y), 1920, 1080);
                Assert.Equal(y, s.FromScreen(0, (int)sy, 1920, 1080).Y);
            }
        }
    }

    [Fact]
    public void A_reported_scale_gives_the_same_mapping_as_the_size_it_came_from()
    {
        var bySize = new CoordinateSpace { MaxWidth = 1280 };
        var (w, h) = bySize.ImageSize(1920, 1080);
        var byScale = new CoordinateSpace { ScaleX = (double)w / 1920, ScaleY = (double)h / 1080 };
        Assert.Equal((w, h), byScale.ImageSize(1920, 1080));
        for (var x = 0; x < w; x += 7)
            Assert.Equal(bySize.ToScreen(new ClientPoint(x, x % h), 1920, 1080), byScale.ToScreen(new ClientPoint(x, x % h), 1920, 1080));
    }

    [Fact]
    public void Points_past_the_image_map_past_the_screen()
    {
        var s = new CoordinateSpace { MaxWidth = 1280 };
        Assert.Equal(1920L, s.ToScreen(new ClientPoint(1280, 0), 1920, 1080).X);
        Assert.True(s.ToScreen(new ClientPoint(-1, 0), 1920, 1080).X < 0);
    }

    [Fact]
    public void A_max_size_larger_than_the_screen_changes_nothing()
    {
        var s = new CoordinateSpace { MaxWidth = 4000, MaxHeight = 4000 };
        Assert.Equal((1920, 1080), s.ImageSize(1920, 1080));
        Assert.Equal((1919L, 5L), s.ToScreen(new ClientPoint(1919, 5), 1920, 1080));
    }
}
