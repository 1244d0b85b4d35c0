using System.Text.Json;
using Microsoft.Extensions.Logging;
using Sandbox.Capture;
using Sandbox.Display;
using Sandbox.Common;
using Sandbox.Input;

namespace Sandbox.LiveView;

/// <summary>What one control message did: the HTTP status the action API would have answered, and a message.</summary>
internal sealed record ControlOutcome(int Status, string? Message);

/// <summary>
/// The viewers of the live view and what they are fed: frames from the shared <see cref="FrameSource"/>
/// (which runs only while someone watches) and, for WebSocket viewers, activity and display events.
/// Control messages are checked here (enabled, allowed action) before they reach the action API.
/// </summary>
internal sealed class LiveViewHub : IDisposable
{
    /// <summary>What a viewer may ask for: input only, nothing that writes files, changes the clipboard or waits long.</summary>
    public static readonly IReadOnlySet<string> ControlActions = ActionParser.AnthropicActions
        .Except(["hold_key", "wait", "cursor_position", "screenshot", "zoom", "paste_text"]).ToHashSet(StringComparer.Ordinal);

    private readonly object _gate = new();
    private readonly List<Viewer> _viewers = [];
    private readonly FrameSource _source;
    private readonly ActivityFeed _feed;
    private readonly IDisposable _feedRegistration;
    private long _nextViewerId;

    private readonly ComputerService? _control;

    /// <param name="control">The action area, which control messages go to; null when the appliance has none.</param>
    public LiveViewHub(XDisplayConnection connection, ApplianceOptions options, LiveViewOptions view, ActivityFeed feed, ILoggerFactory logs,
        ComputerService? control)
    {
        Options = view;
        _control = control;
        _feed = feed;
        var log = logs.CreateLogger("Sandbox.LiveView");
        var capture = new ScreenCapture(connection, options.UseSharedMemory, options.DisplayTimeoutMs, log);
        _source = new FrameSource(capture, Options, options.DisplayTimeoutMs, log, Publish, DisplayProblem);
        _feedRegistration = feed.Listen(e => PostToSockets(JsonSerializer.Serialize(new ActivityMessage("activity", e), LiveViewJson.Default.ActivityMessage)));
    }

    public LiveViewOptions Options { get; }
    public ActivityFeed Feed => _feed;

    /// <summary>Why control is off, or null when viewers may click and type.</summary>
    public string? ControlUnavailable =>
        !Options.Control ? "control is disabled (set SANDBOX_VIEW_CONTROL=true to allow it)" :
        _control is null ? "control is unavailable: the action API is not part of this appliance" : null;

    /// <summary>A new viewer, already holding the latest frame; null when <see cref="LiveViewOptions.MaxViewers"/> watch.</summary>
    public Viewer? TryJoin(string kind)
    {
        lock (_gate)
        {
            if (_viewers.Count >= Options.MaxViewers) return null;
            var viewer = new Viewer(++_nextViewerId, kind, Leave);
            _viewers.Add(viewer);
            if (_source.Latest is { } latest) viewer.Offer(latest);
            _source.SetDemand(true);
            return viewer;
        }
    }

    private void Leave(Viewer viewer)
    {
        lock (_gate)
        {
            _viewers.Remove(viewer);
            if (_viewers.Count == 0) _source.SetDemand(false);
        }
    }

    public HelloMessage Hello(Viewer viewer) => new("hello", viewer.Id, ControlUnavailable is null, ControlUnavailable,
        Options.Fps, Options.Quality, [Options.MaxWidth, Options.MaxHeight], _source.Encoder, _feed.Recent(50));

    public LiveViewStatus Status()
    {
        ViewerInfo[] viewers;
        lock (_gate) viewers = _viewers.Select(v => new ViewerInfo(v.Id, v.Kind, v.Sent, v.Skipped, v.DroppedEvents)).ToArray();
        var latest = _source.Latest;
        return new LiveViewStatus(Options.Enabled, ControlUnavailable is null, ControlUnavailable, Options.Fps, Options.Quality,
            [Options.MaxWidth, Options.MaxHeight], _source.Encoder, _source.Checks, _source.Encoded,
            latest?.Sequence, latest?.Jpeg.Length, latest is null ? null : Math.Round(latest.EncodeMs, 2), viewers);
    }

    /// <summary>
    /// Checks and forwards one control message's action. Never throws for the client's mistakes: the
    /// outcome says what happened (403 when control is off, 400 for a refused or malformed action).
    /// </summary>
    public async Task<ControlOutcome> ControlAsync(JsonElement action, CancellationToken ct)
    {
        if (ControlUnavailable is { } why) return new ControlOutcome(403, why);
        if (action.ValueKind != JsonValueKind.Object || !action.TryGetProperty("action", out var name) || name.ValueKind != JsonValueKind.String)
            return new ControlOutcome(400, "action: expected an object with \"action\" (e.g. {\"action\": \"left_click\", \"coordinate\": [x, y]})");
        if (!ControlActions.Contains(name.GetString()!))
            return new ControlOutcome(400, $"action: '{name.GetString()}' is not allowed from the live view (allowed: {string.Join(", ", ControlActions)})");
        // type by paste changes the clipboard, like paste_text: viewers type with keys only.
        if (action.TryGetProperty("method", out var method) && !(method.ValueKind == JsonValueKind.String && method.GetString() == "keys"))
            return new ControlOutcome(400, "method: only \"keys\" is allowed from the live view (paste changes the clipboard)");
        return await ForwardAsync(_control!, action, ct);
    }

    /// <summary>Runs one action as POST /computer/action would, reported in the activity feed as the viewer's.</summary>
    private static async Task<ControlOutcome> ForwardAsync(ComputerService service, JsonElement action, CancellationToken ct)
    {
        ActionBatch batch;
        try { batch = service.Parser.ParseSingle(action); }
        catch (ActionInputException e) { return new ControlOutcome(400, e.Message); }
        try
        {
            var outcome = await service.RunAsync(batch, ct, origin: "viewer");
            return outcome.Failure is { } f ? new ControlOutcome(f.Status, f.Message) : new ControlOutcome(200, null);
        }
        catch (DisplayUnavailableException e)
        {
            return new ControlOutcome(503, e.Message);
        }
    }

    private void Publish(StreamFrame frame)
    {
        lock (_gate)
            foreach (var v in _viewers) v.Offer(frame);
    }

    private void DisplayProblem(string? message)
    {
        var json = JsonSerializer.Serialize(new DisplayMessage("display", message is null ? "connected" : "unavailable", message), LiveViewJson.Default.DisplayMessage);
        PostToSockets(json);
    }

    private void PostToSockets(string json)
    {
        lock (_gate)
            foreach (var v in _viewers)
                if (v.Kind == "websocket") v.Post(json);
    }

    /// <summary>Ends every viewer's stream (at shutdown, so the server need not wait for them).</summary>
    public void CloseViewers()
    {
        Viewer[] viewers;
        lock (_gate) viewers = [.. _viewers];
        foreach (var v in viewers) v.Dispose();
    }

    public void Dispose()
    {
        _feedRegistration.Dispose();
        CloseViewers();
        _source.Dispose();
    }
}
