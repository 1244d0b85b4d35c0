using Sandbox.E2E.Infrastructure;
using Sandbox.Testing;

namespace Sandbox.E2E.Input;

/// <summary>One Xvfb, the event probe window on it, and one published appliance.</summary>
public sealed class InputFixture : IDisposable
{
    public InputFixture()
    {
        X = XvfbServer.Start();
        Probe = EventProbe.Start(X);
        App = ApplianceProcess.Start(X);
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
