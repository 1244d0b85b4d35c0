using Sandbox.E2E.Infrastructure;
using Sandbox.Testing;

namespace Sandbox.E2E.Input;

/// <summary>One Xvfb, the event probe window on it, and one published appliance.</summary>
public sealed class InputFixture : IDisposable
{
    public InputFixture()
    {
        X = XvfbServer.Start();
        try
        {
            Probe = EventProbe.Start(X);
            try
            {
                // The probe is Tk, which translates keys with Xlib's core keymap and refreshes it only when it handles
                // a MappingNotify: on this busy 2-core machine it can lag behind by more than the default 50 ms.
                App = ApplianceProcess.Start(X, new Dictionary<string, string?> { ["SANDBOX_ACTION_REMAP_NOTIFY_MS"] = "250" });
            }
            catch
            {
                Probe.Dispose();
                throw;
            }
        }
        catch
        {
            // A fixture that fails half-way stops what it started: xunit never disposes it.
            X.Dispose();
            throw;
        }
    }

    public XvfbServer X { get; }
    public EventProbe Probe { get; }
    public ApplianceProcess App { get; }

    public Dictionary<string, string?> Env => new(X.Env);

    public void SetLayout(string layout) => Processes.Check("setxkbmap", ["-layout", layout], Env);

    public string Keymap() => Processes.Check("xmodmap", ["-pke"], Env);

    public void Dispose()
    {
        App.Dispose();
        Probe.Dispose();
        X.Dispose();
    }
}
