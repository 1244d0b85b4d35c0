using Sandbox.Gateway;

namespace Sandbox.Tests.Gateway;

public sealed class ConnectionInfoTests
{
    [Fact]
    public async Task Kernels_allocated_together_never_share_a_port_until_one_is_released()
    {
        // Many at once, as when agents start kernels concurrently: the probe sockets are closed before
        // the kernels bind, so without the registry ports come back twice: 320 ports drawn from the
        // ephemeral range collide about twice on average.
        var infos = await Task.WhenAll(Enumerable.Range(0, 64).Select(_ => Task.Run(() => ConnectionInfo.Allocate())));
        try
        {
            var ports = infos.SelectMany(i => new[] { i.ShellPort, i.IopubPort, i.StdinPort, i.ControlPort, i.HbPort }).ToList();
            Assert.Equal(ports.Count, ports.Distinct().Count());
            Assert.True(ConnectionInfo.ReservedCount >= ports.Count);
            Assert.Equal(64, infos.Select(i => i.Key).Distinct().Count());
        }
        finally
        {
            foreach (var i in infos) i.Release();
        }
    }

    [Fact]
    public async Task With_a_range_every_port_is_in_it_and_none_is_shared()
    {
        var infos = await Task.WhenAll(Enumerable.Range(0, 64).Select(_ => Task.Run(() => ConnectionInfo.Allocate((20_000, 20_999)))));
        try
        {
            var ports = infos.SelectMany(i => new[] { i.ShellPort, i.IopubPort, i.StdinPort, i.ControlPort, i.HbPort }).ToList();
            Assert.All(ports, p => Assert.InRange(p, 20_000, 20_999));
            Assert.Equal(ports.Count, ports.Distinct().Count());
        }
        finally
        {
            foreach (var i in infos) i.Release();
        }
    }
}
