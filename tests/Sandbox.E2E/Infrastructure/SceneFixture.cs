using Sandbox.Testing;

namespace Sandbox.E2E.Infrastructure;

/// <summary>
/// One Xvfb showing the office scene and one published appliance on it, started with the given settings;
/// the class fixtures of the screenshot and live-view tests differ only in those settings.
/// </summary>
public abstract class SceneFixture : IDisposable
{
    protected SceneFixture(IDictionary<string, string?>? settings = null)
    {
        X = XvfbServer.Start();
        try
        {
            X.Paint(Repo.Scene("office.png"));
            App = ApplianceProcess.Start(X, settings);
        }
        catch
        {
            // A fixture that fails half-way stops what it started: xunit never disposes it.
            X.Dispose();
            throw;
        }
    }

    public XvfbServer X { get; }
    public ApplianceProcess App { get; }
    public string BaseUrl => $"http://127.0.0.1:{App.Port}";

    public void Dispose()
    {
        App.Dispose();
        X.Dispose();
        GC.SuppressFinalize(this);
    }
}
