using System.Collections.Concurrent;
using Sandbox.Common;
using Sandbox.Native;

namespace Sandbox.Processes;

/// <summary>Background processes: started, listed, signalled, fed and streamed by id.</summary>
internal sealed partial class ProcessService
{
    private readonly ConcurrentDictionary<string, BackgroundProcess> _background = new();
    private readonly ConcurrentQueue<string> _exitedOrder = new();

    public async Task<ProcessInfo> StartAsync(RunRequest r)
    {
        var argv = _commands.Argv(r);
        if (r.TimeoutS is not null) throw SandboxException.BadField("timeout_s", "background processes run until they exit or are ended");
        var extra = r.Pty is not null && r.Env?.ContainsKey("TERM") != true ? new Dictionary<string, string> { ["TERM"] = _options.Term } : null;
        var start = _commands.Build(r, argv, extra);
        if (r.Pty is { } size && (size.Cols is < 1 or > 10_000 || size.Rows is < 1 or > 10_000))
            throw SandboxException.BadField("pty", "cols and rows must be 1 to 10000");
        if (!_slots.Wait(0)) throw SandboxException.Busy($"{_options.MaxConcurrent} commands are running (SANDBOX_PROCESS_MAX_CONCURRENT)");
        BackgroundProcess p;
        try
        {
            var id = Guid.NewGuid().ToString("N")[..12];
            p = await BackgroundProcess.StartAsync(id, r, argv, start, _options, StartChild, OnExit).ConfigureAwait(false);
        }
        catch
        {
            _slots.Release();
            throw;
        }
        _background[p.Id] = p;
        return p.Info();
    }

    private void OnExit(BackgroundProcess p)
    {
        _slots.Release();
        NoteLeftovers(p.Pid);
        _exitedOrder.Enqueue(p.Id);
        while (_exitedOrder.Count > _options.KeepExited && _exitedOrder.TryDequeue(out var old))
            if (_background.TryRemove(old, out var gone)) gone.Dispose();
    }

    public IReadOnlyList<ProcessInfo> List() =>
        _background.Values.OrderBy(p => p.StartedAt).Select(p => p.Info()).ToList();

    public BackgroundProcess Get(string id) =>
        _background.TryGetValue(id, out var p) ? p : throw SandboxException.NotFound($"no process {id}");

    /// <summary>Ends a process (SIGKILL to its group) and forgets it once it has exited.</summary>
    public async Task<ProcessInfo> EndAsync(string id, CancellationToken ct)
    {
        var p = Get(id);
        p.Kill();
        await p.Ended.WaitAsync(TimeSpan.FromSeconds(30), ct).ConfigureAwait(false);
        _background.TryRemove(id, out _);
        return p.Info();
    }

    public static int ParseSignal(string? name)
    {
        var s = (name ?? "").Trim().ToUpperInvariant();
        if (s.StartsWith("SIG", StringComparison.Ordinal)) s = s[3..];
        return s switch
        {
            "HUP" or "1" => 1, "INT" or "2" => 2, "QUIT" or "3" => 3, "KILL" or "9" => 9, "USR1" or "10" => 10,
            "USR2" or "12" => 12, "TERM" or "15" => 15, "CONT" or "18" => 18, "STOP" or "19" => 19, "TSTP" or "20" => 20,
            "WINCH" or "28" => 28,
            _ => throw SandboxException.BadField("signal", $"'{name}': expected HUP, INT, QUIT, KILL, USR1, USR2, TERM, CONT, STOP, TSTP or WINCH"),
        };
    }

    partial void KillBackgroundCore()
    {
        foreach (var p in _background.Values) p.Dispose();
    }
}
