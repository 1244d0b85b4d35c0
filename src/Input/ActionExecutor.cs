using System.Diagnostics;
using Sandbox.Accessibility;
using Sandbox.Capture;
using Sandbox.Common;
using Sandbox.Web;

namespace Sandbox.Input;

/// <summary>The screen size and coordinate space one request's actions are resolved in.</summary>
internal sealed class RequestContext(CoordinateSpace space)
{
    public CoordinateSpace Space { get; } = space;
    public int ScreenWidth { get; set; }
    public int ScreenHeight { get; set; }
}

/// <summary>
/// Runs one action of a request: the switch over the action kinds, typing, chords, coordinates and the
/// screenshots actions take. Each step runs briefly inside the connection's lock; what a step presses is
/// released by the step or, at the latest, by the service at the end of the request.
/// </summary>
/// <param name="accessibility">Resolves <c>"element": id</c> targets to screen bounds; null answers such actions 503.</param>
internal sealed class ActionExecutor(InputConnection connection, KeymapBindings bindings, ScreenshotService screenshots, InputOptions options,
    AccessibilityService? accessibility = null, Sandbox.Clipboard.ClipboardService? clipboard = null,
    Sandbox.Desktop.WaitService? waits = null)
{
    private readonly Sandbox.Desktop.WaitService? _waits = waits;
    private static readonly IReadOnlyList<KeyChord> s_ctrlV = KeyNames.ParseSequence("ctrl+v", "paste");
    private readonly Sandbox.Clipboard.ClipboardService? _clipboard = clipboard;
    private const uint CapsLockKeysym = 0xffe5;
    private readonly InputConnection _connection = connection;
    private readonly KeymapBindings _bindings = bindings;
    private readonly ScreenshotService _screenshots = screenshots;
    private readonly InputOptions _options = options;
    private readonly AccessibilityService? _accessibility = accessibility;

    // ---- one action ----

    public async Task<ActionResult> ExecuteAsync(ComputerAction a, RequestContext run, CancellationToken ct)
    {
        var ok = new ActionResult(a.Index, a.Name, ActionStatus.Ok);
        switch (a.Kind)
        {
            case ActionKind.MouseMove:
            {
                var p = (await TargetAsync(a, run, ct))!.Value;
                Input(input => { input.MoveTo(p.X, p.Y); return Check(input, a); });
                return Acted(ok, a, p, run);
            }
            case ActionKind.Click:
            {
                var p = await TargetAsync(a, run, ct);
                if (a.Held is { } held) await _bindings.EnsureBoundAsync(held, ct);
                Input(input =>
                {
                    if (p is { } q) input.MoveTo(q.X, q.Y);
                    var keys = a.Held is { } h ? PressChord(input, h, a) : [];
                    for (var i = 0; i < a.Clicks; i++) input.ButtonClick((uint)a.Button);
                    ReleaseKeys(input, keys);
                    return Check(input, a);
                });
                return Acted(ok, a, p, run);
            }
            case ActionKind.Drag:
            {
                var end = (await TargetAsync(a, run, ct))!.Value;
                var start = a.Start is { } s ? ScreenPoint(a, s, "start_coordinate", run) : ((int X, int Y)?)null;
                if (a.Held is { } held) await _bindings.EnsureBoundAsync(held, ct);
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
                return Acted(ok, a, end, run);
            }
            case ActionKind.MouseDown or ActionKind.MouseUp:
            {
                var p = await TargetAsync(a, run, ct);
                Input(input =>
                {
                    if (p is { } q) input.MoveTo(q.X, q.Y);
                    if (a.Kind == ActionKind.MouseDown) input.ButtonDown((uint)a.Button);
                    else input.ButtonUp((uint)a.Button);
                    return Check(input, a);
                });
                return Acted(ok, a, p, run);
            }
            case ActionKind.Scroll:
            {
                var p = await TargetAsync(a, run, ct);
                if (a.Held is { } held) await _bindings.EnsureBoundAsync(held, ct);
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
                return Acted(ok, a, p, run);
            }
            case ActionKind.Key:
                await PressChordsAsync(a, a.Chords, a.DelayMs, ct);
                return ok;
            case ActionKind.KeyDown or ActionKind.KeyUp:
            {
                var chord = a.Chords[0];
                if (a.Kind == ActionKind.KeyDown) await _bindings.EnsureBoundAsync(chord, ct);
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
                await _bindings.EnsureBoundAsync(all, ct);
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
                if (a.Method == TypeMethod.Paste || (a.Method == TypeMethod.Auto && !CanTypeWithKeys(a.Text!)))
                    await PasteAsync(a, a.Text!, ct);
                else
                    await TypeAsync(a, a.Text!, ct);
                return ok;
            case ActionKind.PasteText:
                await PasteAsync(a, a.Text!, ct);
                return ok;
            case ActionKind.Wait when a.Until is { } until:
                if (_waits is null)
                    throw new ActionFailedException($"{a.Label}: waiting for a condition is not available in this appliance", 503);
                try
                {
                    await _waits.WaitAsync(until, ct);
                }
                catch (SandboxException e)
                {
                    throw new ActionFailedException($"{a.Label}: {e.Message}", ErrorResults.Map(e.Kind).Status);
                }
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

    private async Task PressChordsAsync(ComputerAction a, IReadOnlyList<KeyChord> chords, int delayMs, CancellationToken ct)
    {
        foreach (var chord in chords) await _bindings.EnsureBoundAsync(chord, ct);
        for (var i = 0; i < chords.Count; i++)
        {
            var chord = chords[i];
            if (i > 0 && delayMs > 0) await Task.Delay(delayMs, ct);
            Input(input =>
            {
                ReleaseKeys(input, PressChord(input, chord, a));
                return delayMs > 0 ? Check(input, a) : 0;
            });
        }
        Input(input => Check(input, a));
    }

    // ---- pasting ----

    /// <summary>
    /// Puts <paramref name="text"/> on the clipboard, presses ctrl+v and, unless the action says restore=false,
    /// puts the previous content back once the application has fetched ours (or after
    /// <see cref="InputOptions.PasteSettleMs"/>: the application reads the selection asynchronously).
    /// </summary>
    private async Task PasteAsync(ComputerAction a, string text, CancellationToken ct)
    {
        if (_clipboard is null)
            throw new ActionFailedException($"{a.Label}: the clipboard is not available in this appliance", 503);
        try
        {
            var previous = a.Restore ? await _clipboard.TryGetAnyAsync() : null;
            await _clipboard.SetTextAsync(text);
            var served = _clipboard.Served;
            await PressChordsAsync(a, s_ctrlV, 0, ct);
            if (!a.Restore) return;
            var deadline = Stopwatch.GetTimestamp() + _options.PasteSettleMs * Stopwatch.Frequency / 1000;
            while (_clipboard.Served == served && Stopwatch.GetTimestamp() < deadline)
                await Task.Delay(10, ct);
            // Nothing to put back when the clipboard was empty (or held neither text nor an image): ours stays.
            if (previous is not null) await _clipboard.SetAsync(Sandbox.Clipboard.ClipboardSelection.Clipboard, previous);
        }
        catch (SandboxException e)
        {
            throw new ActionFailedException($"{a.Label}: clipboard: {e.Message}", ErrorResults.Map(e.Kind).Status);
        }
    }

    /// <summary>
    /// type method=auto: true when key events can type every character, on the layout's own keys or on spare
    /// keycodes bound to it (what <see cref="TypeAsync"/> does); false sends the text by paste instead.
    /// </summary>
    private bool CanTypeWithKeys(string text)
    {
        var keysyms = TypingPlan.KeysymsOf(text);
        if (keysyms.Any(k => k == Native.Xlib.NoSymbol)) return false;
        var (useLayout, spares) = Input(input => (input.KeyboardState().Group == 0, input.Keyboard.SlotCount));
        var plan = Input(input => keysyms.Select(k => useLayout ? input.Keyboard.InLayout(k) : null).ToArray());
        return !TypingPlan.Create(keysyms, plan, spares).LacksSpareKeys;
    }

    // ---- typing ----

    private async Task TypeAsync(ComputerAction a, string text, CancellationToken ct)
    {
        var keysyms = TypingPlan.KeysymsOf(text);
        if (keysyms.Count == 0) return;

        // Characters the layout's group 1 has (alone or with Shift) are typed on their own keys; the rest,
        // and everything while another group is active, through spare keycodes bound to them.
        var (useLayout, capsOn, spares) = Input(input =>
        {
            var state = input.KeyboardState();
            return (state.Group == 0, input.CapsLockOn(state), input.Keyboard.SlotCount);
        });
        var plan = Input(input => keysyms.Select(k => useLayout ? input.Keyboard.InLayout(k) : null).ToArray());

        var typing = TypingPlan.Create(keysyms, plan, spares);
        if (typing.LacksSpareKeys)
            throw new ActionFailedException($"{a.Label}: the keyboard has no unused keycode to bind characters the layout lacks to");

        // Caps Lock would turn typed letters upper-case (Xlib converts case under Lock whatever the key):
        // unlock it for the duration and lock it again afterwards.
        var capsKey = capsOn ? Input(input => input.Keyboard.InLayout(CapsLockKeysym)) : null;
        if (capsKey is { } unlock) Input(input => { input.Tap(unlock); return 0; });
        try
        {
            foreach (var (start, end, bound) in typing.Segments)
            {
                await _bindings.EnsureBoundAsync(bound, ct);
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

    /// <summary>The screen pixel a pointer action acts on: its element's centre, its coordinate, or none (the pointer).</summary>
    private async Task<(int X, int Y)?> TargetAsync(ComputerAction a, RequestContext run, CancellationToken ct) =>
        a.Element is { } id ? await ElementCentreAsync(a, id, run, ct)
        : a.Coordinate is { } c ? ScreenPoint(a, c, "coordinate", run)
        : null;

    /// <summary>
    /// The centre of an accessibility element's bounds, read now. Its failures fail the action with the status the
    /// accessibility endpoints would answer: 404 for an unknown or vanished element, 503 without a bus, 408 when the
    /// application does not answer; 400 when it has no bounds on the screen.
    /// </summary>
    private async Task<(int X, int Y)> ElementCentreAsync(ComputerAction a, int id, RequestContext run, CancellationToken ct)
    {
        if (_accessibility is null)
            throw new ActionFailedException($"{a.Label}: element {id}: accessibility is not available in this appliance", 503);
        (int X, int Y, int Width, int Height)? bounds;
        try
        {
            bounds = await _accessibility.GetBoundsAsync(id, ct);
        }
        catch (SandboxException e)
        {
            var message = e.Message.Contains($"element {id}", StringComparison.Ordinal) ? e.Message : $"element {id}: {e.Message}";
            throw new ActionFailedException($"{a.Label}: {message}", ErrorResults.Map(e.Kind).Status);
        }
        if (bounds is not { } b)
            throw new ActionFailedException($"{a.Label}: element {id} has no bounds on the screen (it is not showing, or has no size)");
        var (x, y) = (b.X + b.Width / 2, b.Y + b.Height / 2);
        if (x < 0 || y < 0 || x >= run.ScreenWidth || y >= run.ScreenHeight)
            throw new ActionFailedException(
                $"{a.Label}: element {id}'s centre ({x}, {y}) of its bounds [{b.X}, {b.Y}, {b.Width}, {b.Height}] is outside the {run.ScreenWidth}x{run.ScreenHeight} screen");
        return (x, y);
    }

    /// <summary>An action's result: where it acted on the screen and, for an element target, that point in the request's space.</summary>
    private static ActionResult Acted(ActionResult ok, ComputerAction a, (int X, int Y)? p, RequestContext run) => ok with
    {
        ScreenCoordinate = p,
        Coordinate = a.Element is not null && p is { } q ? run.Space.FromScreen(q.X, q.Y, run.ScreenWidth, run.ScreenHeight) : null,
    };

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

    public async Task<ShotResult> ShootAsync(ScreenshotRequest request)
    {
        // The capture area has its own connection; our XSync above means it sees every event we sent.
        return await Task.Run(() =>
        {
            if (request.Response == ScreenshotResponse.Base64)
            {
                var (shown, base64) = _screenshots.RenderBase64(request);
                return new ShotResult(shown, null, base64);
            }
            var (info, path) = _screenshots.Save(request);
            return new ShotResult(info, path, null);
        });
    }

    private T Input<T>(Func<InputSession, T> use) => _connection.Run(use);
}
