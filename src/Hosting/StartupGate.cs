namespace Sandbox.Hosting;

/// <summary>
/// Cold start (docs/performance.md): start-up work that the first answer does not need (the kernel gateway's
/// host and bind, the input connection's warm-up) waits until the first
/// request has been answered, or <see cref="MaxDelayMs"/> after the REST port is bound when none comes, so on
/// a two-core machine it does not take the CPU from that answer. Readiness (/readyz, READY=1) waits for it.
/// </summary>
internal sealed class StartupGate
{
    public const int MaxDelayMs = 50;
    private readonly TaskCompletionSource _open = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _isOpen;

    /// <summary>Completes at the first answer, or <see cref="MaxDelayMs"/> after <see cref="Arm"/>.</summary>
    public Task Opened => _open.Task;

    /// <summary>True once the gate has opened.</summary>
    public bool IsOpen => _isOpen;

    /// <summary>The REST port is bound: the delay starts.</summary>
    public void Arm() => _ = Task.Delay(MaxDelayMs).ContinueWith(_ => Open(), TaskScheduler.Default);

    /// <summary>A request was answered (called per request; a flag read once it is open).</summary>
    public void Answered()
    {
        if (!_isOpen) Open();
    }

    private void Open()
    {
        _isOpen = true;
        _open.TrySetResult();
    }

    /// <summary>Runs <paramref name="work"/> on the thread pool once the gate opens.</summary>
    public void Defer(Action work) =>
        _ = Opened.ContinueWith(_ => work(), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
}
