using System.Diagnostics;
using Sandbox.E2E.Infrastructure;
using Sandbox.Testing;
using static Sandbox.E2E.Recording.Rec;

namespace Sandbox.E2E.Recording;

/// <summary>
/// On a display where no application receives input, the X server holds recorded events back until
/// something makes it flush; the recorder must make it. xdotool's own round trips would hide this, so the
/// injector here sends one key with XTest, flushes, and stays connected and silent.
/// </summary>
public sealed class RecordQuietDisplayTests
{
    [Fact]
    public async Task A_single_key_on_a_quiet_display_reaches_the_journal_while_the_injector_stays_silent()
    {
        using var x = XvfbServer.Start(640, 480);
        using var app = ApplianceProcess.Start(x);
        var start = await Start(app);
        var script = "import time\nfrom Xlib import X, display\nfrom Xlib.ext import xtest\nd = display.Display()\n" +
                     "xtest.fake_input(d, X.KeyPress, 38)\nxtest.fake_input(d, X.KeyRelease, 38)\nd.flush()\ntime.sleep(60)\n";
        var psi = new ProcessStartInfo(Repo.SystemPython) { UseShellExecute = false };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(script);
        foreach (var (k, v) in x.Env)
            if (v is null) psi.Environment.Remove(k); else psi.Environment[k] = v;
        using var injector = Process.Start(psi)!;
        try
        {
            Eventually(() => InputEvents(Journal(app, start)).Count == 2, "both key events are journaled", timeoutMs: 20_000);
        }
        finally
        {
            injector.Kill();
            injector.WaitForExit(5000);
        }
        var stop = await Stop(app);
        Assert.Equal("a", Actions(app, stop)[0].GetProperty("text").GetString());
    }
}
