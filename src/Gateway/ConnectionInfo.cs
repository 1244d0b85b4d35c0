using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.Json;

namespace Sandbox.Gateway;

/// <summary>A kernel's ports and HMAC key, and its connection file (0600: the key authorises code execution).</summary>
internal sealed record ConnectionInfo(string Ip, int ShellPort, int IopubPort, int StdinPort, int ControlPort, int HbPort, string Key)
{
    public string Endpoint(int port) => $"tcp://{Ip}:{port}";

    /// <summary>Ports held by this process's kernels, from allocation until the kernel is gone.</summary>
    private static readonly HashSet<int> s_reserved = [];

    /// <summary>
    /// Five free loopback ports and a fresh key, from <paramref name="range"/> or, when it is null, by binding
    /// port 0 as jupyter_client does. Never a port another kernel of ours holds: the probe socket is closed
    /// before the kernel binds the port, so what was handed out is remembered (kernels started together, or
    /// one still starting, would otherwise get the same port and die with EADDRINUSE). A range below the
    /// ephemeral one also keeps outgoing connections, which take their source port from it, off those ports.
    /// </summary>
    public static ConnectionInfo Allocate((int Low, int High)? range = null)
    {
        var sockets = new List<Socket>();
        lock (s_reserved)
        {
            try
            {
                var ports = new List<int>(5);
                var tries = 0;
                while (ports.Count < 5)
                {
                    if (++tries > 10_000) throw new InvalidOperationException($"no five free ports in {range}");
                    var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                    sockets.Add(s);   // held open until all five are found, so no port comes back twice
                    var candidate = range is var (low, high) ? Random.Shared.Next(low, high + 1) : 0;
                    if (candidate != 0 && (s_reserved.Contains(candidate) || ports.Contains(candidate))) continue;
                    try { s.Bind(new IPEndPoint(IPAddress.Loopback, candidate)); }
                    catch (SocketException) when (candidate != 0) { continue; }   // in use by someone else
                    var port = ((IPEndPoint)s.LocalEndPoint!).Port;
                    if (!s_reserved.Contains(port)) ports.Add(port);
                }
                s_reserved.UnionWith(ports);
                return new ConnectionInfo("127.0.0.1", ports[0], ports[1], ports[2], ports[3], ports[4],
                    Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32)));
            }
            finally
            {
                foreach (var s in sockets) s.Dispose();
            }
        }
    }

    private int _released;

    /// <summary>Returns the ports to the free pool once the kernel is gone for good (only the first call counts).</summary>
    public void Release()
    {
        if (Interlocked.Exchange(ref _released, 1) != 0) return;
        lock (s_reserved) s_reserved.ExceptWith([ShellPort, IopubPort, StdinPort, ControlPort, HbPort]);
    }

    internal static int ReservedCount
    {
        get { lock (s_reserved) return s_reserved.Count; }
    }

    public void WriteFile(string path, string kernelName)
    {
        if (!OperatingSystem.IsLinux()) throw new PlatformNotSupportedException();
        using var stream = new FileStream(path, new FileStreamOptions
        {
            Mode = FileMode.Create,
            Access = FileAccess.Write,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        });
        using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        w.WriteStartObject();
        w.WriteNumber("shell_port", ShellPort);
        w.WriteNumber("iopub_port", IopubPort);
        w.WriteNumber("stdin_port", StdinPort);
        w.WriteNumber("control_port", ControlPort);
        w.WriteNumber("hb_port", HbPort);
        w.WriteString("ip", Ip);
        w.WriteString("key", Key);
        w.WriteString("transport", "tcp");
        w.WriteString("signature_scheme", "hmac-sha256");
        w.WriteString("kernel_name", kernelName);
        w.WriteEndObject();
    }
}
