namespace Sandbox.Common;

/// <summary>
/// Where agent steps go while a recording runs, so a recording also yields a trajectory (the action,
/// its result and the screen after it, step by step). Areas that act on the screen for an agent (the
/// action API, protocol adapters) are handed one and report each step; the recording area implements
/// it. Reporting costs nothing when no recording runs: callers check <see cref="Active"/> first.
/// </summary>
internal interface IStepJournal
{
    /// <summary>True while a recording runs and steps are being kept.</summary>
    bool Active { get; }

    /// <summary>
    /// Keeps one step. <paramref name="source"/> names the route that ran it (<c>computer</c>,
    /// <c>osworld</c>, <c>mcp</c>); <paramref name="actionJson"/> is the action as the client sent it and
    /// <paramref name="resultJson"/> what it was answered, both JSON texts. The journal takes the
    /// screenshot after the step itself. Never throws for a journal that is not active.
    /// </summary>
    ValueTask AddAsync(string source, string actionJson, string resultJson, CancellationToken cancellationToken);
}

/// <summary>The journal of an appliance that keeps no trajectories.</summary>
internal sealed class NoStepJournal : IStepJournal
{
    public static readonly NoStepJournal Instance = new();
    private NoStepJournal() { }
    public bool Active => false;
    public ValueTask AddAsync(string source, string actionJson, string resultJson, CancellationToken cancellationToken) => ValueTask.CompletedTask;
}
