using Sandbox.E2E.Infrastructure;
using Sandbox.Testing;

namespace Sandbox.E2E.Capture;

/// <summary>One Xvfb showing the office scene and one published appliance on it.</summary>
public sealed class ScreenshotFixture : SceneFixture
{
    public Rgb Scene { get; } = Rgb.Load(Repo.Scene("office.png"));
}
