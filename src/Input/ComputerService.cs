using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Sandbox.Capture;
using Sandbox.Display;
using Sandbox.Common;

namespace Sandbox.Input;

internal enum ActionStatus { Ok, Error, Skipped }

/// <summary>A screenshot taken by an action: saved under SHARED_DIR (<see cref="Path"/>) or inline (<see cref="Base64"/>).</summary>
internal sealed record ShotResult(ScreenshotInfo Info, string? Path, string? Base64);

internal sealed record ActionResult(int Index, string Action, ActionStatus Status)
{
    public string? Error { get; init; }
    /// <summary>cursor_position: the pointer in the request's coordinate space; an element target: the point acted on, in that space.</summary>
    public (int X, int Y)? Coordinate { get; init; }
    /// <summary>Where on the screen the action acted (or the pointer is, for cursor_position).</summary>
    public (int X, int Y)? ScreenCoordinate { get; init; }
    public ShotResult? Screenshot { get; init; }
}

internal sealed record ActionFailure(int Status, string Message, int Index);

internal sealed record BatchOutcome(IReadOnlyList<ActionResult> Results, int ScreenWidth, int ScreenHeight)
{
    public ActionFailure? Failure { get; init; }
    public ShotResult? ScreenshotAfter { get; init; }
    public double ElapsedMs { get; init; }
}

/// <summary>
/// Runs action requests on the input area's own X connection.
/// <para>
/// Requests are serialized by <see cref="_gate"/> (held across waits, so a hold_key in one request is
/// never interleaved with clicks of another); each step runs briefly inside the connection's lock.
/// Whatever a request pressed is released when it ends, however it ends. Keycodes remapped for typing
/// are restored by <see cref="KeymapBindings"/> once no request has run for
/// <see cref="InputOptions.KeymapRestoreMs"/>, and at shutdown, when the connection is disposed.
/// Each action is run by <see cref="ActionExecutor"/>.
/// </para>
/// </summary>
internal sealed class ComputerService : IDisposable
{
    private readonly XDisplayConnection _connection;
    private readonly InputConnection _input;
    private readonly KeymapBindings _bindings;
    private readonly ActionExecutor _executor;
    private readonly InputOptions _options;
    private readonly int _displayTimeoutMs;
    private readonly ILogger _log;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly CancellationTokenSource _stopping = new();
    private volatile bool _stopped;

    private readonly ActivityFeed? _activity;

    /// <param name="activity">Where each action run is reported (the live view's activity list); optional.</param>
    /// <param name="waits">wait actions with <c>until</c> (the /wait conditions); optional (503 without).</param>
    /// <param name="clipboard">paste_text and type by paste set the clipboard through it; optional (503 without).</param>
    /// <param name="accessibility">Resolves actions that target an accessibility element (<c>"element": id</c>); optional.</param>
    public ComputerService(XDisplayConnection connection, ScreenshotService screenshots, ApplianceOptions appliance, InputOptions options, ILogger log,
        ActivityFeed? activity = null, Sandbox.Accessibility.AccessibilityService? accessibility = null,
        Sandbox.Clipboard.ClipboardService? clipboard = null, Sandbox.Desktop.WaitService? waits = null)
    {
        _activity = activity;
        _connection = connection;
        _options = options;
        _displayTimeoutMs = appliance.DisplayTimeoutMs;
        _log = log;
        _input = new InputConnection(connection, _displayTimeoutMs, log);
        _bindings = new KeymapBindings(_input, _options, _gate, log);
        _executor = new ActionExecutor(_input, _bindings, screenshots, _options, accessibility, clipboard, waits);
        Parser = new ActionParser(options, appliance.MaxImageEdge);
    }

    public ActionParser Parser { get; }
    public XDisplayConnection Connection => _connection;

    /// <summary>One line for the activity list: the action's name and what it acted on (typed text shortened).</summary>
    internal static string Describe(ComputerAction a)
    {
        var parts = new List<string> { a.Name };
        if (a.Start is { } start) parts.Add($"from {start}");
        if (a.Coordinate is { } c) parts.Add(a.Start is null ? c.ToString() : $"to {c}");
        if (a.Element is { } element) parts.Add(a.Start is null ? $"element {element}" : $"to element {element}");
        if (a.Chords.Count > 0) parts.Add(string.Join(' ', a.Chords));
        if (a.Kind is ActionKind.Type or ActionKind.PasteText && a.Text is { } t) parts.Add(t.Length <= 60 ? $"\"{t}\"" : $"\"{t[..57]}…\" ({t.Length} chars)");
        if (a.ScrollX != 0 || a.ScrollY != 0) parts.Add($"dx={a.ScrollX} dy={a.ScrollY}");
        if (a.Duration > TimeSpan.Zero) parts.Add(FormattableString.Invariant($"{a.Duration.TotalSeconds:0.###} s"));
        return string.Join(' ', parts);
    }

    /// <summary>Opens the connection and sets up XTEST ahead of the first request; logs instead of throwing.</summary>
    public void WarmUp()
    {
        try { Input(static _ => 0); }
        catch (DisplayUnavailableException e) { _log.LogWarning("input: {Message}", e.Message); }
    }

    /// <param name="origin">Who asked, for the activity feed: <c>action</c> (the REST API) or <c>viewer</c> (live view control).</param>
    public async Task<BatchOutcome> RunAsync(ActionBatch batch, CancellationToken aborted, string origin = "action")
    {
        if (_stopped) throw new DisplayUnavailableException("the appliance is shutting down");
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(aborted, _stopping.Token);
        var ct = cts.Token;
        try
        {
            return await RunLockedAsync(batch, origin, ct);
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested && !aborted.IsCancellationRequested)
        {
            throw new DisplayUnavailableException("the appliance is shutting down; held keys and buttons were released");
        }
    }

    private async Task<BatchOutcome> RunLockedAsync(ActionBatch batch, string origin, CancellationToken ct)
    {
        if (!await _gate.WaitAsync(_options.QueueTimeoutMs, ct))
            throw new DisplayUnavailableException($"an earlier action request was still running after {_options.QueueTimeoutMs} ms (SANDBOX_ACTION_QUEUE_MS)");
        var started = Stopwatch.GetTimestamp();
        var usesKeyboard = false;
        try
        {
            _bindings.CancelRestore();
            usesKeyboard = batch.Actions.Any(a => a.Kind is ActionKind.Key or ActionKind.KeyDown or ActionKind.KeyUp
                or ActionKind.HoldKey or ActionKind.Type or ActionKind.PasteText || a.Held is not null);
            var run = new RequestContext(batch.Space);
            Input(input =>
            {
                input.DrainEvents();   // the root's ConfigureNotify keeps the size current: no round trip
                (run.ScreenWidth, run.ScreenHeight) = input.ScreenSize;
                // The layout may have changed since the last request (setxkbmap); one round trip.
                if (usesKeyboard) input.Keyboard.Load(input.Display);
                return 0;
            });

            var results = new List<ActionResult>(batch.Actions.Count);
            ActionFailure? failure = null;
            try
            {
                foreach (var action in batch.Actions)
                {
                    try
                    {
                        results.Add(await _executor.ExecuteAsync(action, run, ct));
                        _activity?.Add(origin, action.Name, Describe(action), "ok");
                    }
                    catch (ActionFailedException e)
                    {
                        failure = new ActionFailure(e.Status, e.Message, action.Index);
                        results.Add(new ActionResult(action.Index, action.Name, ActionStatus.Error) { Error = e.Message });
                        _activity?.Add(origin, action.Name, $"{Describe(action)}: {e.Message}", "error");
                        break;
                    }
                }
            }
            finally
            {
                ReleaseEverything();
            }
            for (var i = results.Count; i < batch.Actions.Count; i++)
                results.Add(new ActionResult(i, batch.Actions[i].Name, ActionStatus.Skipped));

            ShotResult? after = null;
            if (batch.ScreenshotAfter is { } shot)
            {
                if (batch.SettleMs > 0) await Task.Delay(batch.SettleMs, ct);
                after = await _executor.ShootAsync(shot);
            }
            return new BatchOutcome(results, run.ScreenWidth, run.ScreenHeight)
            {
                Failure = failure,
                ScreenshotAfter = after,
                ElapsedMs = Math.Round(Stopwatch.GetElapsedTime(started).TotalMilliseconds, 3),
            };
        }
        finally
        {
            if (usesKeyboard || _bindings.Outstanding) _bindings.ScheduleRestore();
            _gate.Release();
        }
    }

    private T Input<T>(Func<InputSession, T> use) => _input.Run(use);

    /// <summary>End of every request: nothing stays pressed. Never masks the request's own exception.</summary>
    private void ReleaseEverything()
    {
        try
        {
            Input(static input =>
            {
                if (input.ReleaseAll()) input.Session.SyncAndTakeError();
                return 0;
            });
        }
        catch (DisplayUnavailableException e)
        {
            _log.LogWarning("input: could not release held keys and buttons: {Message}", e.Message);
        }
    }

    /// <summary>
    /// Shutdown: cancels running requests (their own cleanup releases what they hold), waits for them,
    /// then closes the connection, which releases anything left and restores remapped keycodes.
    /// </summary>
    public void Dispose()
    {
        if (_stopped) return;
        _stopped = true;
        _bindings.Dispose();
        _stopping.Cancel();
        var entered = _gate.Wait(TimeSpan.FromMilliseconds(Math.Max(_displayTimeoutMs, 2000)));
        if (!entered) _log.LogWarning("input: a request did not finish in time; closing the connection anyway");
        _connection.Dispose();
        _stopping.Dispose();
    }
}
