using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Logging;
using Sandbox.Capture;
using Sandbox.Display;
using Sandbox.Native;
using Sandbox.Common;

namespace Sandbox.Input;

internal enum ActionStatus { Ok, Error, Skipped }

/// <summary>A screenshot taken by an action: saved under SHARED_DIR (<see cref="Path"/>) or inline (<see cref="Base64"/>).</summary>
internal sealed record ShotResult(ScreenshotInfo Info, string? Path, string? Base64);

internal sealed record ActionResult(int Index, string Action, ActionStatus Status)
{
    public string? Error { get; init; }
    /// <summary>cursor_position: the pointer in the request's coordinate space.</summary>
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
/// are restored by <see cref="_restoreTimer"/> once no request has run for
/// <see cref="InputOptions.KeymapRestoreMs"/>, and at shutdown, when the connection is disposed.
/// </para>
/// </summary>
internal sealed class ComputerService : IDisposable
{
    private const uint CapsLockKeysym = 0xffe5;
    private readonly XDisplayConnection _connection;
    private readonly ScreenshotService _screenshots;
    private readonly InputOptions _options;
    private readonly int _displayTimeoutMs;
    private readonly ILogger _log;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly CancellationTokenSource _stopping = new();
    private readonly Timer _restoreTimer;
    private volatile bool _stopped;
    private volatile bool _bindingsOutstanding;

    private readonly ActivityFeed? _activity;

    /// <param name="activity">Where each action run is reported (the live view's activity list); optional.</param>
    public ComputerService(XDisplayConnection connection, ScreenshotService screenshots, ApplianceOptions appliance, InputOptions options, ILogger log,
        ActivityFeed? activity = null)
    {
        _activity = activity;
        _connection = connection;
        _screenshots = screenshots;
        _options = options;
        _displayTimeoutMs = appliance.DisplayTimeoutMs;
        _log = log;
        Parser = new ActionParser(options, appliance.MaxImageEdge);
        _restoreTimer = new Timer(static s => ((ComputerService)s!).RestoreWhenIdle(), this, Timeout.Infinite, Timeout.Infinite);
    }

    public ActionParser Parser { get; }
    public XDisplayConnection Connection => _connection;

    /// <summary>One line for the activity list: the action's name and what it acted on (typed text shortened).</summary>
    internal static string Describe(ComputerAction a)
    {
        var parts = new List<string> { a.Name };
        if (a.Start is { } start) parts.Add($"from {start}");
        if (a.Coordinate is { } c) parts.Add(a.Start is null ? c.ToString() : $"to {c}");
        if (a.Chords.Count > 0) parts.Add(string.Join(' ', a.Chords));
        if (a.Kind == ActionKind.Type && a.Text is { } t) parts.Add(t.Length <= 60 ? $"\"{t}\"" : $"\"{t[..57]}…\" ({t.Length} chars)");
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
            _restoreTimer.Change(Timeout.Infinite, Timeout.Infinite);
            usesKeyboard = batch.Actions.Any(a => a.Kind is ActionKind.Key or ActionKind.KeyDown or ActionKind.KeyUp
                or ActionKind.HoldKey or ActionKind.Type || a.Held is not null);
            var run = new RequestContext(batch.Space);
            Input(input =>
            {
                input.DrainEvents();
                (run.ScreenWidth, run.ScreenHeight) = input.Session.RefreshScreenSize();
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
                        results.Add(await ExecuteAsync(action, run, ct));
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
                after = await ShootAsync(shot);
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
            if (usesKeyboard || _bindingsOutstanding) ScheduleRestore();
            _gate.Release();
        }
    }

    private sealed class RequestContext(CoordinateSpace space)
    {
        public CoordinateSpace Space { get; } = space;
        public int ScreenWidth { get; set; }
        public int ScreenHeight { get; set; }
    }

    // ---- one action ----

    private async Task<ActionResult> ExecuteAsync(ComputerAction a, RequestContext run, CancellationToken ct)
    {
        var ok = new ActionResult(a.Index, a.Name, ActionStatus.Ok);
        switch (a.Kind)
        {
            case ActionKind.MouseMove:
            {
                var p = ScreenPoint(a, a.Coordinate!.Value, "coordinate", run);
                Input(input => { input.MoveTo(p.X, p.Y); return Check(input, a); });
                return ok with { ScreenCoordinate = p };
            }
            case ActionKind.Click:
            {
                var p = a.Coordinate is { } c ? ScreenPoint(a, c, "coordinate", run) : ((int X, int Y)?)null;
                if (a.Held is { } held) await EnsureBoundAsync(held, ct);
                Input(input =>
                {
                    if (p is { } q) input.MoveTo(q.X, q.Y);
                    var keys = a.Held is { } h ? PressChord(input, h, a) : [];
                    for (var i = 0; i < a.Clicks; i++) input.ButtonClick((uint)a.Button);
                    ReleaseKeys(input, keys);
                    return Check(input, a);
                });
                return ok with { ScreenCoordinate = p };
            }
            case ActionKind.Drag:
            {
                var end = ScreenPoint(a, a.Coordinate!.Value, "coordinate", run);
                var start = a.Start is { } s ? ScreenPoint(a, s, "start_coordinate", run) : ((int X, int Y)?)null;
                if (a.Held is { } held) await EnsureBoundAsync(held, ct);
                Input(input =>
                {
                    var (x0, y0) = start ?? input.Session.QueryPointer();
                    input.MoveTo(x0, y0);
                    var keys = a.Held is { } h ? PressChord(input, h, a) : [];
                    input.ButtonDown((uint)MouseButton.Left);
                    // Intermediate moves: toolkits start a drag only after the pointer crossed a threshold
                    // while the button was down, and some ignore a press followed by a single far jump.
                    var steps = _options.DragSteps;
                    for (var i = 1; i <= steps; i++)
                        input.MoveTo(x0 + (end.X - x0) * i / steps, y0 + (end.Y - y0) * i / steps);
                    input.ButtonUp((uint)MouseButton.Left);
                    ReleaseKeys(input, keys);
                    return Check(input, a);
                });
                return ok with { ScreenCoordinate = end };
            }
            case ActionKind.MouseDown or ActionKind.MouseUp:
            {
                var p = a.Coordinate is { } c ? ScreenPoint(a, c, "coordinate", run) : ((int X, int Y)?)null;
                Input(input =>
                {
                    if (p is { } q) input.MoveTo(q.X, q.Y);
                    if (a.Kind == ActionKind.MouseDown) input.ButtonDown((uint)a.Button);
                    else input.ButtonUp((uint)a.Button);
                    return Check(input, a);
                });
                return ok with { ScreenCoordinate = p };
            }
            case ActionKind.Scroll:
            {
                var p = a.Coordinate is { } c ? ScreenPoint(a, c, "coordinate", run) : ((int X, int Y)?)null;
                if (a.Held is { } held) await EnsureBoundAsync(held, ct);
                Input(input =>
                {
                    if (p is { } q) input.MoveTo(q.X, q.Y);
                    var keys = a.Held is { } h ? PressChord(input, h, a) : [];
                    // Wheel buttons: 4 up, 5 down, 6 left, 7 right; one click per unit.
                    for (var i = 0; i < Math.Abs(a.ScrollY); i++) input.ButtonClick(a.ScrollY < 0 ? 4u : 5u);
                    for (var i = 0; i < Math.Abs(a.ScrollX); i++) input.ButtonClick(a.ScrollX < 0 ? 6u : 7u);
                    ReleaseKeys(input, keys);
                    return Check(input, a);
                });
                return ok with { ScreenCoordinate = p };
            }
            case ActionKind.Key:
            {
                foreach (var chord in a.Chords) await EnsureBoundAsync(chord, ct);
                for (var i = 0; i < a.Chords.Count; i++)
                {
                    var chord = a.Chords[i];
                    if (i > 0 && a.DelayMs > 0) await Task.Delay(a.DelayMs, ct);
                    Input(input =>
                    {
                        ReleaseKeys(input, PressChord(input, chord, a));
                        return a.DelayMs > 0 ? Check(input, a) : 0;
                    });
                }
                Input(input => Check(input, a));
                return ok;
            }
            case ActionKind.KeyDown or ActionKind.KeyUp:
            {
                var chord = a.Chords[0];
                if (a.Kind == ActionKind.KeyDown) await EnsureBoundAsync(chord, ct);
                Input(input =>
                {
                    if (a.Kind == ActionKind.KeyDown) PressChord(input, chord, a);
                    else ReleaseKeys(input, chord.Keys.Select(k => Stroke(input, k, a, forRelease: true)).Where(s => s is not null)
                        .Select(s => s!.Value.Keycode).ToList());
                    return Check(input, a);
                });
                return ok;
            }
            case ActionKind.HoldKey:
            {
                var all = new KeyChord(a.Chords.SelectMany(c => c.Keys).ToArray());
                await EnsureBoundAsync(all, ct);
                var keys = Input(input => { var k = PressChord(input, all, a); Check(input, a); return k; });
                try
                {
                    await Task.Delay(a.Duration, ct);
                }
                finally
                {
                    Input(input => { ReleaseKeys(input, keys); return Check(input, a); });
                }
                return ok;
            }
            case ActionKind.Type:
                await TypeAsync(a, a.Text!, ct);
                return ok;
            case ActionKind.Wait:
                await Task.Delay(a.Duration, ct);
                return ok;
            case ActionKind.CursorPosition:
            {
                var (x, y) = Input(static input => input.Session.QueryPointer());
                return ok with { Coordinate = run.Space.FromScreen(x, y, run.ScreenWidth, run.ScreenHeight), ScreenCoordinate = (x, y) };
            }
            case ActionKind.Screenshot:
                return ok with { Screenshot = await ShootAsync(a.Screenshot!) };
            case ActionKind.Zoom:
            {
                var (tl, br) = a.ZoomRegion!.Value;
                var (x0, y0) = run.Space.ToScreen(tl, run.ScreenWidth, run.ScreenHeight);
                var (x1, y1) = run.Space.ToScreen(br, run.ScreenWidth, run.ScreenHeight);
                if (x0 < 0 || y0 < 0 || x1 > run.ScreenWidth || y1 > run.ScreenHeight || x1 <= x0 || y1 <= y0)
                    throw new ActionFailedException(
                        $"{a.Label}: region [{tl.X}, {tl.Y}, {br.X}, {br.Y}] maps to [{x0}, {y0}, {x1}, {y1}], which is not inside the {run.ScreenWidth}x{run.ScreenHeight} screen{SpaceNote(run)}");
                var region = new Region((int)x0, (int)y0, (int)(x1 - x0), (int)(y1 - y0));
                return ok with { Screenshot = await ShootAsync(a.Screenshot! with { Region = region }) };
            }
            default:
                throw new UnreachableException($"action kind {a.Kind}");
        }
    }

    // ---- typing ----

    private async Task TypeAsync(ComputerAction a, string text, CancellationToken ct)
    {
        var keysyms = new List<nuint>(text.Length);
        for (var i = 0; i < text.Length;)
        {
            Rune.DecodeFromUtf16(text.AsSpan(i), out var rune, out var used);
            i += used;
            if (rune.Value == '\r' && i < text.Length && text[i] == '\n') continue;   // CRLF is one Return
            keysyms.Add(Keysyms.ForRune(rune));
        }
        if (keysyms.Count == 0) return;

        // Characters the layout's group 1 has (alone or with Shift) are typed on their own keys; the rest,
        // and everything while another group is active, through spare keycodes bound to them.
        var (useLayout, capsOn, spares) = Input(input =>
        {
            var state = input.KeyboardState();
            return (state.Group == 0, input.CapsLockOn(state), input.Keyboard.SlotCount);
        });
        var plan = Input(input => keysyms.Select(k => useLayout ? input.Keyboard.InLayout(k) : null).ToArray());

        // Segments whose spare-keyed characters fit in the spare keycodes at once.
        var segments = new List<(int Start, int End, HashSet<nuint> Bound)>();
        var current = new HashSet<nuint>();
        var segStart = 0;
        for (var i = 0; i < keysyms.Count; i++)
        {
            if (plan[i] is not null || current.Contains(keysyms[i])) continue;
            if (current.Count == spares && spares > 0)
            {
                segments.Add((segStart, i, current));
                current = [];
                segStart = i;
            }
            current.Add(keysyms[i]);
        }
        segments.Add((segStart, keysyms.Count, current));
        if (spares == 0 && segments.Any(s => s.Bound.Count > 0))
            throw new ActionFailedException($"{a.Label}: the keyboard has no unused keycode to bind characters the layout lacks to");

        // Caps Lock would turn typed letters upper-case (Xlib converts case under Lock whatever the key):
        // unlock it for the duration and lock it again afterwards.
        var capsKey = capsOn ? Input(input => input.Keyboard.InLayout(CapsLockKeysym)) : null;
        if (capsKey is { } unlock) Input(input => { input.Tap(unlock); return 0; });
        try
        {
            foreach (var (start, end, bound) in segments)
            {
                await EnsureBoundAsync(bound, ct);
                if (a.DelayMs == 0)
                {
                    Input(input =>
                    {
                        for (var i = start; i < end; i++) input.Tap(plan[i] ?? input.Keyboard.Bound(keysyms[i])!.Value);
                        return Check(input, a);
                    });
                    continue;
                }
                for (var i = start; i < end; i++)
                {
                    if (i > 0) await Task.Delay(a.DelayMs, ct);
                    var k = i;
                    Input(input =>
                    {
                        input.Tap(plan[k] ?? input.Keyboard.Bound(keysyms[k])!.Value);
                        return Check(input, a);
                    });
                }
            }
        }
        finally
        {
            if (capsKey is { } relock) Input(input => { input.Tap(relock); return Check(input, a); });
        }
    }

    // ---- keys and chords ----

    /// <summary>Makes sure every key of the chord that needs a spare keycode has one (waiting to reuse one if needed).</summary>
    private Task EnsureBoundAsync(KeyChord chord, CancellationToken ct)
    {
        var needed = Input(input =>
        {
            var useLayout = input.KeyboardState().Group == 0;
            return chord.Keys
                .Where(k => !k.IsModifier && (!useLayout || input.Keyboard.InLayout(k.Keysym) is null))
                .Select(k => k.Keysym).ToHashSet();
        });
        return EnsureBoundAsync(needed, ct);
    }

    private async Task EnsureBoundAsync(HashSet<nuint> keysyms, CancellationToken ct)
    {
        if (keysyms.Count == 0) return;
        var (wait, changes) = Input(input =>
        {
            try { return input.Keyboard.PlanBindings(keysyms, TimeSpan.FromMilliseconds(_options.RemapSettleMs)); }
            catch (KeymapFullException e) { throw new ActionFailedException(e.Message); }
        });
        if (changes.Count == 0) return;
        if (wait > TimeSpan.Zero) await Task.Delay(wait, ct);
        _bindingsOutstanding = true;
        Input(input =>
        {
            input.Keyboard.Apply(input.Display, changes);
            Xlib.XSync(input.Display, 0);   // the change is at the server, its MappingNotify on the way (errors stay for Check)
            return 0;
        });
        // Give clients the time to handle the MappingNotify before the first key that needs it.
        if (_options.RemapNotifyMs > 0) await Task.Delay(_options.RemapNotifyMs, ct);
    }

    /// <summary>The key for one named key right now; null only when releasing a key that has none.</summary>
    private static KeyStroke? Stroke(InputSession input, KeySpec key, ComputerAction a, bool forRelease = false)
    {
        var kb = input.Keyboard;
        if (key.IsModifier)
            return kb.InLayout(key.Keysym) ?? (forRelease ? null
                : throw new ActionFailedException($"{a.Label}: the keyboard layout has no key for the modifier '{key.Name}' ({Keysyms.Name(key.Keysym)})"));
        var useLayout = input.KeyboardState().Group == 0;
        return (useLayout ? kb.InLayout(key.Keysym) : null) ?? kb.Bound(key.Keysym)
            ?? (forRelease ? null : throw new ActionFailedException($"{a.Label}: no key types '{key.Name}'"));
    }

    /// <summary>Presses the chord's keys in order (adding Shift before a level-2 key); returns the keycodes pressed.</summary>
    private static List<byte> PressChord(InputSession input, KeyChord chord, ComputerAction a)
    {
        var pressed = new List<byte>(chord.Keys.Count + 1);
        var shift = chord.Keys.Any(k => k.Keysym is Keysyms.ShiftL or Keysyms.ShiftR);
        foreach (var key in chord.Keys)
        {
            var stroke = Stroke(input, key, a)!.Value;
            if (stroke.Shift && !shift)
            {
                var s = input.ShiftKeycode();
                if (!input.IsHeld(s)) { input.KeyDown(s); pressed.Add(s); }
                shift = true;
            }
            if (input.IsHeld(stroke.Keycode)) continue;
            input.KeyDown(stroke.Keycode);
            input.Keyboard.Used(stroke.Keysym);
            pressed.Add(stroke.Keycode);
        }
        return pressed;
    }

    private static void ReleaseKeys(InputSession input, List<byte> keycodes)
    {
        for (var i = keycodes.Count - 1; i >= 0; i--) input.KeyUp(keycodes[i]);
    }

    // ---- helpers ----

    private (int X, int Y) ScreenPoint(ComputerAction a, ClientPoint p, string field, RequestContext run)
    {
        var (x, y) = run.Space.ToScreen(p, run.ScreenWidth, run.ScreenHeight);
        if (x < 0 || y < 0 || x >= run.ScreenWidth || y >= run.ScreenHeight)
        {
            var mapped = run.Space.IsScreen ? "" : $" (screen {x}, {y})";
            throw new ActionFailedException(
                $"{a.Label}: {field} {p}{mapped} is outside the {run.ScreenWidth}x{run.ScreenHeight} screen{SpaceNote(run)}");
        }
        return ((int)x, (int)y);
    }

    private static string SpaceNote(RequestContext run)
    {
        if (run.Space.IsScreen) return "";
        var (w, h) = run.Space.ImageSize(run.ScreenWidth, run.ScreenHeight);
        return $"; coordinates are in the {w}x{h} screenshot space";
    }

    /// <summary>Syncs and turns an X error caused by the action's requests into a failure of that action.</summary>
    private static int Check(InputSession input, ComputerAction a)
    {
        if (input.Session.SyncAndTakeError() is { } e)
            throw new ActionFailedException($"{a.Label}: the X server refused a request: {e.Text} (request {e.RequestCode}.{e.MinorCode})", 500);
        return 0;
    }

    private async Task<ShotResult> ShootAsync(ScreenshotRequest request)
    {
        // The capture area has its own connection; our XSync above means it sees every event we sent.
        if (request.Response == ScreenshotResponse.Base64)
        {
            return await Task.Run(() =>
            {
                using var buffer = new PooledBufferStream();
                var info = _screenshots.Render(request, buffer);
                return new ShotResult(info, null, buffer.ToBase64());
            });
        }
        return await Task.Run(() =>
        {
            var (info, path) = _screenshots.Save(request);
            return new ShotResult(info, path, null);
        });
    }

    private T Input<T>(Func<InputSession, T> use) =>
        _connection.Run(s => use(s.GetOrAttach(InputSession.Key, x => InputSession.Open(x, _log))), _displayTimeoutMs);

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

    private void ScheduleRestore()
    {
        if (_stopped || !_bindingsOutstanding) return;
        if (_options.KeymapRestoreMs == 0) RestoreKeymap();
        else _restoreTimer.Change(_options.KeymapRestoreMs, Timeout.Infinite);
    }

    private void RestoreWhenIdle()
    {
        if (_stopped) return;
        if (!_gate.Wait(0))
        {
            // A request is running; it reschedules the restore when it ends.
            return;
        }
        try { RestoreKeymap(); }
        finally { _gate.Release(); }
    }

    private void RestoreKeymap()
    {
        try
        {
            var n = Input(static input =>
            {
                var restored = input.Keyboard.RestoreAll(input.Display);
                if (restored > 0) input.Session.SyncAndTakeError();
                return restored;
            });
            _bindingsOutstanding = false;
            if (n > 0) _log.LogDebug("input: restored {Count} remapped keycodes", n);
        }
        catch (DisplayUnavailableException e)
        {
            _log.LogWarning("input: could not restore remapped keycodes: {Message}", e.Message);
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
        _stopping.Cancel();
        _restoreTimer.Dispose();
        var entered = _gate.Wait(TimeSpan.FromMilliseconds(Math.Max(_displayTimeoutMs, 2000)));
        if (!entered) _log.LogWarning("input: a request did not finish in time; closing the connection anyway");
        _connection.Dispose();
        _stopping.Dispose();
    }
}
