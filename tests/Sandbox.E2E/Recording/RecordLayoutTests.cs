using Sandbox.E2E.Infrastructure;
using Sandbox.Testing;
using static Sandbox.E2E.Recording.Rec;

namespace Sandbox.E2E.Recording;

/// <summary>Keys are named by the layout in effect when they were pressed, not by a fixed US table.</summary>
public sealed class RecordLayoutTests
{
    /// <summary>Presses raw keycodes through XTest with python3-xlib (xdotool would pick keycodes by layout).</summary>
    private static void PressKeycodes(XvfbServer x, params int[] keycodes)
    {
        var script = "import sys\nfrom Xlib import X, display\nfrom Xlib.ext import xtest\nd = display.Display()\n" +
                     "for k in map(int, sys.argv[1:]):\n    xtest.fake_input(d, X.KeyPress, k)\n    xtest.fake_input(d, X.KeyRelease, k)\nd.sync()\n";
        Processes.Check(Repo.SystemPython, new[] { "-c", script }.Concat(keycodes.Select(k => k.ToString())),
            new Dictionary<string, string?>(x.Env));
    }

    [Fact]
    public async Task The_same_keycodes_type_per_the_current_layout_and_a_layout_switch_mid_recording()
    {
        using var x = XvfbServer.Start(640, 480);
        using var app = ApplianceProcess.Start(x);
        // Keycodes 29 and 52 are Y and Z on a US keyboard and Z and Y on a German one; 20 is '-' and 'ß'.
        Processes.Check("setxkbmap", ["-layout", "us"], new Dictionary<string, string?>(x.Env));
        var start = await Start(app);
        PressKeycodes(x, 29, 52, 20);
        Eventually(() => InputEvents(Journal(app, start)).Count == 6, "the US keys are journaled");
        Processes.Check("setxkbmap", ["-layout", "de"], new Dictionary<string, string?>(x.Env));
        Xdo(x, "key", "Return");
        PressKeycodes(x, 29, 52, 20);
        var actions = Actions(app, await Stop(app));
        Assert.Equal(["yz-", "Key.enter", "zyß"], actions.EnumerateArray()
            .Select(a => a.TryGetProperty("text", out var t) ? t.GetString() : a.GetProperty("key").GetString()));
    }
}
