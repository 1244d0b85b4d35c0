using System.Diagnostics;
using System.Text;

namespace Sandbox.Testing;

/// <summary>Runs helper programs for tests and reports their output when they fail.</summary>
public static class Processes
{
    public static (int Code, string Stdout, string Stderr) Run(string file, IEnumerable<string> args,
        IDictionary<string, string?>? env = null, int timeoutMs = 60_000, string? stdin = null)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = stdin is not null,
            UseShellExecute = false,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        if (env is not null)
            foreach (var (k, v) in env)
                if (v is null) psi.Environment.Remove(k); else psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            p.StandardInput.Write(stdin);
            p.StandardInput.Close();
        }
        if (!p.WaitForExit(timeoutMs))
        {
            p.Kill(entireProcessTree: true);
            // What it had written says where it stood.
            var said = stderr.Wait(2000) ? stderr.Result : "";
            if (said.Length > 4000) said = "..." + said[^4000..];
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish in {timeoutMs} ms; its stderr:\n{said}");
        }
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    public static string Check(string file, IEnumerable<string> args, IDictionary<string, string?>? env = null, int timeoutMs = 60_000)
    {
        var (code, o, e) = Run(file, args, env, timeoutMs);
        if (code != 0) throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited {code}: {e}{o}");
        return o;
    }

    public static int FreeTcpPort()
    {
        var l = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        l.Start();
        var port = ((System.Net.IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    /// <summary>Collects a child's output lines, bounded, for failure messages.</summary>
    public sealed class OutputLog
    {
        private readonly StringBuilder _text = new();
        public void Add(string? line)
        {
            if (line is null) return;
            lock (_text)
            {
                if (_text.Length > 200_000) _text.Remove(0, 100_000);
                _text.AppendLine(line);
            }
        }
        public override string ToString() { lock (_text) return _text.ToString(); }
    }
}
