using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;

namespace Sandbox.Web;

/// <summary>
/// A port bound and listening before its web application starts. Building and starting a host takes tens of
/// milliseconds, and the appliance starts its second one (the kernel gateway) after the first answer on the
/// REST port (cold start); a socket made now costs microseconds, and a client that connects in between waits
/// in the kernel's backlog instead of being refused. <see cref="HandTo"/> gives the sockets to Kestrel, which
/// owns and closes them from then on. The addresses are the ones Kestrel's own URL binding would take: an IP
/// literal as it is (the IPv6 any-address dual-stack), <c>localhost</c> as both loopbacks, any other name as
/// every address.
/// </summary>
internal sealed class PreBoundPort : IDisposable
{
    private readonly List<Socket> _sockets;

    private PreBoundPort(List<Socket> sockets, string host)
    {
        _sockets = sockets;
        Port = ((IPEndPoint)sockets[0].LocalEndPoint!).Port;
        Url = $"http://{BuilderDefaults.HostForUrl(host)}:{Port}";
    }

    /// <summary>The port bound (the one the system chose when 0 was asked for).</summary>
    public int Port { get; }

    /// <summary>The listen address as Kestrel reports it, e.g. <c>http://0.0.0.0:8888</c>.</summary>
    public string Url { get; }

    /// <summary>Binds and listens now; throws <see cref="SocketException"/> (e.g. the port is taken).</summary>
    public static PreBoundPort Bind(string host, int port)
    {
        var sockets = new List<Socket>();
        try
        {
            if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase))
            {
                sockets.Add(Listen(new IPEndPoint(IPAddress.Loopback, port)));
                // The IPv6 loopback on the same port when the machine has one, as Kestrel does.
                if (Socket.OSSupportsIPv6)
                    try { sockets.Add(Listen(new IPEndPoint(IPAddress.IPv6Loopback, ((IPEndPoint)sockets[0].LocalEndPoint!).Port))); }
                    catch (SocketException e) when (e.SocketErrorCode is SocketError.AddressNotAvailable or SocketError.AddressFamilyNotSupported) { }
            }
            else if (IPAddress.TryParse(host.Trim('[', ']'), out var address))
                sockets.Add(Listen(new IPEndPoint(address, port)));
            else if (host is "*" or "+")
                sockets.Add(Listen(new IPEndPoint(IPAddress.Any, port)));
            else
                sockets.Add(Socket.OSSupportsIPv6 ? Listen(new IPEndPoint(IPAddress.IPv6Any, port)) : Listen(new IPEndPoint(IPAddress.Any, port)));
            return new PreBoundPort(sockets, host);
        }
        catch
        {
            foreach (var s in sockets) s.Dispose();
            throw;
        }
    }

    private static Socket Listen(IPEndPoint endpoint)
    {
        var s = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (endpoint.Address.Equals(IPAddress.IPv6Any)) s.DualMode = true;
            s.Bind(endpoint);
            s.Listen(512);
            return s;
        }
        catch
        {
            s.Dispose();
            throw;
        }
    }

    /// <summary>Has <paramref name="builder"/>'s Kestrel serve these sockets (instead of binding a URL).</summary>
    public void HandTo(WebApplicationBuilder builder)
    {
        var handles = new List<ulong>();
        foreach (var s in _sockets)
        {
            handles.Add((ulong)s.Handle);
            // Kestrel wraps the descriptor in a handle of its own that closes it; ours must not close it again.
            s.SafeHandle.SetHandleAsInvalid();
        }
        _sockets.Clear();
        builder.WebHost.ConfigureKestrel(k =>
        {
            foreach (var h in handles) k.ListenHandle(h);
        });
    }

    /// <summary>Closes the sockets if they were never handed over (the host was not started).</summary>
    public void Dispose()
    {
        foreach (var s in _sockets) s.Dispose();
        _sockets.Clear();
    }
}
