using Sandbox.E2E.Infrastructure;
using Sandbox.Testing;

namespace Sandbox.E2E.Capture;

/// <summary>One Xvfb showing the office scene and one published appliance on it.</summary>
public sealed class ScreenshotFixture : IDisposable
{
    public ScreenshotFixture()
    {
        X = XvfbServer.Start();
        X.Paint(Repo.Scene("office.png"));
        Scene = Rgb.Load(Repo.Scene("office.png"));
        App = ApplianceProcess.Start(X);
    }

    public XvfbServer X { get; }
    public Rgb Scene { get; }
    public ApplianceProcess App { get; }

    public void Dispose()
    {
        App.Dispose();
        X.Dispose();
    }
}
