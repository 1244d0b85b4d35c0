using System.Diagnostics;
using Sandbox.Testing;

namespace Sandbox.E2E.Infrastructure;

/// <summary>
/// The processes a desktop fixture starts (a session bus, the AT-SPI launcher, a window manager, applications):
/// each started with its own environment and kept, and all stopped on dispose in reverse order (a stopped one
/// is continued first, so a test that SIGSTOPs an application cannot leave it behind), even after a failure
/// half-way through the fixture's set-up.
/// </summary>
public sealed class DesktopProcesses : IDisposable
{
    private readonly List<Process> _started = [];

    /// <summary>Starts <paramref name="file"/>; a null value in <paramref name="env"/> removes that variable.
    /// Standard error is drained; standard output too when <paramref name="drainStdout"/> (otherwise the caller reads it).</summary>
    public Process Spawn(string file, IEnumerable<string> args, IDictionary<string, string?> env, bool drainStdout)
    {
        var psi = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (k, v) in env)
            if (v is null) psi.Environment.Remove(k); else psi.Environment[k] = v;
        var p = Process.Start(psi) ?? throw new InvalidOperationException("cannot start " + file);
        p.ErrorDataReceived += (_, _) => { };
        p.BeginErrorReadLine();
        if (drainStdout)
        {
            p.OutputDataReceived += (_, _) => { };
            p.BeginOutputReadLine();
        }
        lock (_started) _started.Add(p);
        return p;
    }

    /// <summary>Polls <paramref name="condition"/> (exceptions count as not yet) until it holds or the time is up.</summary>
    public static void WaitFor(Func<bool> condition, string what, int timeoutMs = 60_000, int pollMs = 100)
    {
        var sw = Stopwatch.StartNew();
        Exception? last = null;
        while (sw.ElapsedMilliseconds < timeoutMs)
        {
            try { if (condition()) return; }
            catch (Exception e) { last = e; }
            Thread.Sleep(pollMs);
        }
        throw new TimeoutException($"waited {timeoutMs} ms for {what}" + (last is null ? "" : $" (last error: {last.Message})"));
    }

    public void Dispose()
    {
        List<Process> started;
        lock (_started) started = [.. _started];
        started.Reverse();
        foreach (var p in started)
        {
            try
            {
                if (!p.HasExited)
                {
                    Processes.Run("kill", ["-CONT", p.Id.ToString()], timeoutMs: 5000);
                    p.Kill(entireProcessTree: true);
                    p.WaitForExit(10_000);
                }
            }
            catch (Exception) { }
            p.Dispose();
        }
    }
}
