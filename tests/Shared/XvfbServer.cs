using System.Diagnostics;

namespace Sandbox.Testing;

/// <summary>
/// A real Xvfb on a free display, for tests. Started with -noreset (a plain Xvfb resets when its last
/// client leaves, recentring the pointer and dropping the painted scene) and -displayfd, which both
/// picks a free display and tells us when the server is ready.
/// </summary>
public sealed class XvfbServer : IDisposable
{
    private Process? _process;
    private readonly Processes.OutputLog _log = new();

    private XvfbServer(int width, int height, bool sharedMemory)
    {
        Width = width;
        Height = height;
        SharedMemory = sharedMemory;
    }

    public int Number { get; private set; } = -1;
    public string Display => ":" + Number;
    public int Width { get; }
    public int Height { get; }
    public bool SharedMemory { get; }
    public string? PaintedScene { get; private set; }
    public IReadOnlyDictionary<string, string?> Env => new Dictionary<string, string?> { ["DISPLAY"] = Display, ["XAUTHORITY"] = null };

    public static XvfbServer Start(int width = 1920, int height = 1080, bool sharedMemory = true)
    {
        var x = new XvfbServer(width, height, sharedMemory);
        x.Launch(null);
        return x;
    }

    private void Launch(int? number)
    {
        var psi = new ProcessStartInfo("Xvfb")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (number is { } n) psi.ArgumentList.Add(":" + n);
        foreach (var a in new[] { "-displayfd", "1", "-noreset", "-nolisten", "tcp", "-screen", "0", $"{Width}x{Height}x24" })
            psi.ArgumentList.Add(a);
        if (!SharedMemory)
        {
            psi.ArgumentList.Add("-extension");
            psi.ArgumentList.Add("MIT-SHM");
        }
        var p = Process.Start(psi) ?? throw new InvalidOperationException("cannot start Xvfb");
        p.ErrorDataReceived += (_, e) => _log.Add(e.Data);
        p.BeginErrorReadLine();
        var line = p.StandardOutput.ReadLineAsync();
        if (!line.Wait(20_000) || line.Result is null || !int.TryParse(line.Result.Trim(), out var display))
        {
            try { p.Kill(); } catch (InvalidOperationException) { }
            throw new InvalidOperationException("Xvfb did not start: " + _log);
        }
        _process = p;
        Number = display;
        if (PaintedScene is not null) Paint(PaintedScene);
    }

    /// <summary>Paints an image on the root window with an independent tool (python3-xlib).</summary>
    public void Paint(string imagePath)
    {
        Processes.Check(Repo.SystemPython, [Path.Combine(Repo.Root, "tests", "Shared", "paint_root.py"), imagePath],
            new Dictionary<string, string?>(Env));
        PaintedScene = imagePath;
    }

    public void MovePointer(int x, int y) =>
        Processes.Check("xdotool", ["mousemove", "--sync", x.ToString(), y.ToString()], new Dictionary<string, string?>(Env));

    public (int X, int Y) PointerPosition()
    {
        var o = Processes.Check("xdotool", ["getmouselocation", "--shell"], new Dictionary<string, string?>(Env));
        var kv = o.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('=')).ToDictionary(p => p[0], p => p[1]);
        return (int.Parse(kv["X"]), int.Parse(kv["Y"]));
    }

    /// <summary>Kills the server (SIGKILL), as a crash would.</summary>
    public void Kill()
    {
        if (_process is null) return;
        try { _process.Kill(); } catch (InvalidOperationException) { }
        _process.WaitForExit(10_000);
        _process.Dispose();
        _process = null;
        // A killed server leaves its socket and lock behind; a restart on the same number needs them gone.
        TryDelete($"/tmp/.X11-unix/X{Number}");
        TryDelete($"/tmp/.X{Number}-lock");
    }

    /// <summary>Starts a new server on the same display number (and repaints the scene).</summary>
    public void Restart()
    {
        Kill();
        Launch(Number);
    }

    public string Log => _log.ToString();

    public void Dispose() => Kill();

    private static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
