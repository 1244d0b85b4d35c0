using System.Diagnostics;
using System.Text.Json;
using Sandbox.Testing;

namespace Sandbox.E2E.Input;

/// <summary>
/// event_probe.py: an independent Tk client on the test display that logs the input it receives and
/// reports its text widget and the position of its draggable box (see the script for the layout).
/// </summary>
public sealed class EventProbe : IDisposable
{
    public const int TextX = 300, TextY = 150;       // inside the Text widget (0,0 600x300)
    public const int BoxX = 50, BoxY = 350;          // the draggable box's top-left (100x100)

    private readonly Process _process;
    private readonly List<JsonElement> _events = [];
    private readonly Processes.OutputLog _log = new();

    private EventProbe(Process process) => _process = process;

    public static EventProbe Start(XvfbServer x)
    {
        var psi = new ProcessStartInfo(Repo.SystemPython)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(Path.Combine(Repo.Root, "tests", "Sandbox.E2E", "Input", "event_probe.py"));
        psi.Environment["DISPLAY"] = x.Display;
        psi.Environment.Remove("XAUTHORITY");
        // Tk reads keys through the locale's input method; UTF-8 makes every character arrive as itself.
        psi.Environment["LANG"] = psi.Environment["LC_ALL"] = "C.UTF-8";
        var probe = new EventProbe(Process.Start(psi)!);
        probe._process.StandardInput.AutoFlush = true;
        probe._process.OutputDataReceived += (_, e) => probe.OnLine(e.Data);
        probe._process.ErrorDataReceived += (_, e) => probe._log.Add(e.Data);
        probe._process.BeginOutputReadLine();
        probe._process.BeginErrorReadLine();
        probe.WaitFor(e => Kind(e) == "ready", 0, "the probe window to appear");
        return probe;
    }

    private void OnLine(string? line)
    {
        if (line is null) return;
        _log.Add(line);
        try
        {
            var e = JsonDocument.Parse(line).RootElement.Clone();
            lock (_events)
            {
                _events.Add(e);
                Monitor.PulseAll(_events);
            }
        }
        catch (JsonException) { }
    }

    public static string Kind(JsonElement e) => e.GetProperty("event").GetString()!;

    /// <summary>A position in the event log; events after it are what a test caused.</summary>
    public int Mark
    {
        get { lock (_events) return _events.Count; }
    }

    public List<JsonElement> Since(int mark)
    {
        lock (_events) return _events.Skip(mark).ToList();
    }

    /// <summary>Sends a command; the probe answers after handling every X event sent before it.</summary>
    public JsonElement Ask(string command, string answer)
    {
        var mark = Mark;
        _process.StandardInput.WriteLine(command);
        return WaitFor(e => Kind(e) == answer, mark, $"the answer to '{command}'");
    }

    /// <summary>Waits for the probe to have processed everything sent so far, then returns the events since the mark.</summary>
    public List<JsonElement> EventsSince(int mark)
    {
        Ask("box", "box");
        return Since(mark).Where(e => Kind(e) is not ("box" or "text" or "cleared")).ToList();
    }

    public string Text() => Ask("text", "text").GetProperty("value").GetString()!;

    public void ClearText() => Ask("clear", "cleared");

    public (int X, int Y) Box()
    {
        var b = Ask("box", "box");
        return (b.GetProperty("x").GetInt32(), b.GetProperty("y").GetInt32());
    }

    public JsonElement WaitFor(Func<JsonElement, bool> match, int mark, string what, int timeoutMs = 20_000)
    {
        var sw = Stopwatch.StartNew();
        lock (_events)
        {
            while (true)
            {
                for (var i = mark; i < _events.Count; i++)
                    if (match(_events[i])) return _events[i];
                if (_process.HasExited) throw new InvalidOperationException($"the probe exited waiting for {what}:\n{_log}");
                var left = timeoutMs - (int)sw.ElapsedMilliseconds;
                if (left <= 0) throw new TimeoutException($"waited {timeoutMs} ms for {what}; probe output:\n{_log}");
                Monitor.Wait(_events, left);
            }
        }
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.StandardInput.WriteLine("quit");
                if (!_process.WaitForExit(3000)) _process.Kill();
            }
        }
        catch (Exception e) when (e is IOException or InvalidOperationException) { }
        _process.Dispose();
    }
}

/// <summary>X state read by x_state.py (python3-xlib): pressed keycodes, button mask, pointer.</summary>
public sealed record XState(int[] Keys, int Buttons, int[] Pointer)
{
    public static XState Read(XvfbServer x)
    {
        var json = Processes.Check(Repo.SystemPython, [Path.Combine(Repo.Root, "tests", "Sandbox.E2E", "Input", "x_state.py")],
            new Dictionary<string, string?>(x.Env));
        var e = JsonDocument.Parse(json).RootElement;
        return new XState(e.GetProperty("keys").EnumerateArray().Select(k => k.GetInt32()).ToArray(),
            e.GetProperty("buttons").GetInt32(), e.GetProperty("pointer").EnumerateArray().Select(k => k.GetInt32()).ToArray());
    }
}

/// <summary>xev on the root window (x11-utils): raw button numbers, which Tk folds (6/7 become Shift+4/5).</summary>
public sealed class RootButtonLog : IDisposable
{
    private readonly Process _process;
    private readonly List<int> _presses = [];

    /// <summary>Starts xev and waits until it reports a probe click (button 9) at a bare-root point.</summary>
    public RootButtonLog(XvfbServer x, int rootX, int rootY)
    {
        // stdbuf: xev writes through stdio, which a pipe would block-buffer.
        var psi = new ProcessStartInfo("stdbuf") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "-oL", "xev", "-root", "-event", "button" }) psi.ArgumentList.Add(a);
        psi.Environment["DISPLAY"] = x.Display;
        _process = Process.Start(psi)!;
        var pressed = false;
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            if (e.Data.StartsWith("ButtonPress")) pressed = true;
            else if (e.Data.StartsWith("ButtonRelease")) pressed = false;
            var at = e.Data.IndexOf(", button ", StringComparison.Ordinal);
            if (pressed && at >= 0 && int.TryParse(e.Data[(at + 9)..].Split(',')[0], out var b))
                lock (_presses) { _presses.Add(b); Monitor.PulseAll(_presses); }
        };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var env = new Dictionary<string, string?>(x.Env);
        var sw = Stopwatch.StartNew();
        while (true)
        {
            Processes.Check("xdotool", ["mousemove", "--sync", rootX.ToString(), rootY.ToString(), "click", "9"], env);
            lock (_presses)
            {
                if (_presses.Contains(9) || Monitor.Wait(_presses, 200) && _presses.Contains(9))
                {
                    _presses.Clear();
                    return;
                }
            }
            if (sw.ElapsedMilliseconds > 20_000) throw new TimeoutException("xev did not report button presses on the root window");
        }
    }

    public int[] WaitForPresses(int count, int timeoutMs = 20_000)
    {
        var sw = Stopwatch.StartNew();
        lock (_presses)
        {
            while (_presses.Count < count && sw.ElapsedMilliseconds < timeoutMs)
                Monitor.Wait(_presses, 100);
            return _presses.ToArray();
        }
    }

    public void Dispose()
    {
        try { _process.Kill(); } catch (InvalidOperationException) { }
        _process.WaitForExit(3000);
        _process.Dispose();
    }
}
