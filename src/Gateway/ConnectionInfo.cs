using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.Json;

namespace Sandbox.Gateway;

/// <summary>A kernel's ports and HMAC key, and its connection file (0600: the key authorises code execution).</summary>
internal sealed record ConnectionInfo(string Ip, int ShellPort, int IopubPort, int StdinPort, int ControlPort, int HbPort, string Key)
{
    public string Endpoint(int port) => $"tcp://{Ip}:{port}";

    /// <summary>Five free loopback ports and a fresh key. The ports are found by binding port 0, as jupyter_client does.</summary>
    public static ConnectionInfo Allocate()
    {
        var sockets = new List<Socket>();
        try
        {
            var ports = new int[5];
            for (var i = 0; i < ports.Length; i++)
            {
                var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                sockets.Add(s);
                s.Bind(new IPEndPoint(IPAddress.Loopback, 0));
                ports[i] = ((IPEndPoint)s.LocalEndPoint!).Port;
            }
            return new ConnectionInfo("127.0.0.1", ports[0], ports[1], ports[2], ports[3], ports[4],
                Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32)));
        }
        finally
        {
            foreach (var s in sockets) s.Dispose();
        }
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
