using Microsoft.Extensions.Logging;
using Sandbox.Display;
using Sandbox.Native;

namespace Sandbox.Input;

/// <summary>
/// Spare keycodes bound to the characters and keys the layout lacks, and their restoration: bindings
/// are made just before the keys that need them, and restored by a timer once no request has run for
/// <see cref="InputOptions.KeymapRestoreMs"/> (never during a request: the restore takes the service's
/// request gate), and at shutdown, when the connection is disposed.
/// </summary>
internal sealed class KeymapBindings : IDisposable
{
    private readonly InputConnection _connection;
    private readonly InputOptions _options;
    private readonly SemaphoreSlim _gate;
    private readonly ILogger _log;
    private readonly Timer _restoreTimer;
    private volatile bool _stopped;
    private volatile bool _outstanding;

    /// <param name="gate">The service's request gate, held by every request.</param>
    public KeymapBindings(InputConnection connection, InputOptions options, SemaphoreSlim gate, ILogger log)
    {
        _connection = connection;
        _options = options;
        _gate = gate;
        _log = log;
        _restoreTimer = new Timer(static s => ((KeymapBindings)s!).RestoreWhenIdle(), this, Timeout.Infinite, Timeout.Infinite);
    }

    /// <summary>Keycodes were rebound since the last restore.</summary>
    public bool Outstanding => _outstanding;

    /// <summary>A request starts: no restore while it runs.</summary>
    public void CancelRestore() => _restoreTimer.Change(Timeout.Infinite, Timeout.Infinite);

    /// <summary>Makes sure every key of the chord that needs a spare keycode has one (waiting to reuse one if needed).</summary>
    public Task EnsureBoundAsync(KeyChord chord, CancellationToken ct)
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

    public async Task EnsureBoundAsync(HashSet<nuint> keysyms, CancellationToken ct)
    {
        if (keysyms.Count == 0) return;
        var (wait, changes) = Input(input =>
        {
            try { return input.Keyboard.PlanBindings(keysyms, TimeSpan.FromMilliseconds(_options.RemapSettleMs)); }
            catch (KeymapFullException e) { throw new ActionFailedException(e.Message); }
        });
        if (changes.Count == 0) return;
        if (wait > TimeSpan.Zero) await Task.Delay(wait, ct);
        _outstanding = true;
        Input(input =>
        {
            input.Keyboard.Apply(input.Display, changes);
            Xlib.XSync(input.Display, 0);   // the change is at the server, its MappingNotify on the way (errors stay for Check)
            return 0;
        });
        // Give clients the time to handle the MappingNotify before the first key that needs it.
        if (_options.RemapNotifyMs > 0) await Task.Delay(_options.RemapNotifyMs, ct);
    }

    /// <summary>Restores the keymap after the idle time (at once when it is 0), if anything is bound.</summary>
    public void ScheduleRestore()
    {
        if (_stopped || !_outstanding) return;
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
            _outstanding = false;
            if (n > 0) _log.LogDebug("input: restored {Count} remapped keycodes", n);
        }
        catch (DisplayUnavailableException e)
        {
            _log.LogWarning("input: could not restore remapped keycodes: {Message}", e.Message);
        }
    }

    private T Input<T>(Func<InputSession, T> use) => _connection.Run(use);

    /// <summary>Shutdown: no more restores (the connection's disposal restores what is left).</summary>
    public void Dispose()
    {
        _stopped = true;
        _restoreTimer.Dispose();
    }
}
