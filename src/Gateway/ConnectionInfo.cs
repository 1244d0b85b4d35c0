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
    /// Five free loopback ports and a fresh key. The ports are found by binding port 0, as jupyter_client
    /// does, but never one another kernel of ours holds: a probe socket is closed before the kernel binds
    /// the port, so the kernel manager must remember what it handed out (kernels started together, or a
    /// kernel still starting, would otherwise be given the same port and die with EADDRINUSE).
    /// </summary>
    public static ConnectionInfo Allocate()
    {
        var sockets = new List<Socket>();
        lock (s_reserved)
        {
            try
            {
                var ports = new List<int>(5);
                while (ports.Count < 5)
                {
                    var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                    sockets.Add(s);   // held open until all five are found, so no port comes back twice
                    s.Bind(new IPEndPoint(IPAddress.Loopback, 0));
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
