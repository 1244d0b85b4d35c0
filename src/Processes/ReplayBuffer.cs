namespace Sandbox.Processes;

/// <summary>One output chunk (or the exit) of a background process, numbered from 1.</summary>
internal sealed record OutputEvent(long Seq, string Type, byte[] Data, int? ExitCode = null, int? Signal = null);

/// <summary>
/// A background process's recent output, bounded in bytes (oldest chunks dropped first), numbered so a
/// client that reconnects with the last number it saw gets what it missed. The exit event is always last
/// and never dropped. Readers wait on a signal that is replaced at every append.
/// </summary>
internal sealed class ReplayBuffer(int maxBytes)
{
    private readonly object _lock = new();
    private readonly LinkedList<OutputEvent> _events = new();
    private long _bytes;
    private long _seq;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public long LastSeq { get { lock (_lock) return _seq; } }
    public bool Ended { get; private set; }

    public void Append(string type, byte[] data, int? exitCode = null, int? signal = null)
    {
        TaskCompletionSource changed;
        lock (_lock)
        {
            if (Ended) return;
            var e = new OutputEvent(++_seq, type, data, exitCode, signal);
            _events.AddLast(e);
            _bytes += data.Length;
            while (_bytes > maxBytes && _events.First is { } first && first.Value.Type != "exit")
            {
                _bytes -= first.Value.Data.Length;
                _events.RemoveFirst();
            }
            if (type == "exit") Ended = true;
            changed = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        changed.TrySetResult();
    }

    /// <summary>The events after <paramref name="since"/> still held, and a task completing at the next append.</summary>
    public (List<OutputEvent> Events, Task Changed) After(long since)
    {
        lock (_lock)
        {
            var list = new List<OutputEvent>();
            for (var node = _events.Last; node is not null && node.Value.Seq > since; node = node.Previous) list.Add(node.Value);
            list.Reverse();
            return (list, _changed.Task);
        }
    }
}
