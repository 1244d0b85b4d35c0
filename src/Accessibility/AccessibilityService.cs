using System.Diagnostics;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Sandbox.Common;
using Tmds.DBus.Protocol;

namespace Sandbox.Accessibility;

/// <summary>What a tree request asks for.</summary>
internal sealed record TreeQuery(string? App = null, bool ActiveWindow = false, bool VisibleOnly = false, int? MaxDepth = null,
    int? MaxNodes = null, int? TimeoutMs = null, Detail Details = Detail.All);

/// <summary>A walked desktop: the applications in registry order and whether anything was cut.</summary>
internal sealed record DesktopTree(IReadOnlyList<AccessibleNode> Apps, int Elements, string? Truncated, double ElapsedMs);

internal enum MatchMode { Exact, Substring, Regex }

internal sealed record FindQuery(string? Role, string? Name, string? Text, string[] States, MatchMode Mode, int MaxResults, TreeQuery Tree);

/// <summary>
/// The accessibility area: walks the AT-SPI tree of every application on the accessibility bus (in
/// parallel, each within its time budget), finds elements, acts on them and tells where they are.
/// </summary>
internal sealed class AccessibilityService : IDisposable
{
    private readonly AccessibilityOptions _options;
    private readonly AtspiBus _bus;
    private readonly ElementIds _ids;
    private readonly ILogger _log;

    public AccessibilityService(AccessibilityOptions options, IDictionary<string, string?> env, Func<string?>? rootWindowAddress, ILogger log)
    {
        _options = options;
        _log = log;
        _bus = new AtspiBus(options, env, rootWindowAddress, log);
        _ids = new ElementIds(options.MaxIds);
    }

    public AccessibilityOptions Options => _options;

    private static readonly ObjRef RegistryRoot = new("org.a11y.atspi.Registry", "/org/a11y/atspi/accessible/root");

    public async Task<DesktopTree> GetTreeAsync(TreeQuery q, CancellationToken ct)
    {
        var sw = Stopwatch.StartNew();
        var client = await _bus.GetAsync(ct);
        var timeout = q.TimeoutMs ?? _options.AppTimeoutMs;
        var deadline = DateTime.UtcNow.AddMilliseconds(timeout);
        ObjRef[] apps;
        var list = client.GetChildren(RegistryRoot);
        if (!await TreeWalker.Within(list, deadline))
            throw SandboxException.Unavailable($"the AT-SPI registry did not answer within {timeout} ms");
        if (!list.IsCompletedSuccessfully)
        {
            var error = list.Exception?.InnerException;
            if (error is DBusConnectionClosedException or DBusConnectionException) _bus.Invalidate(client);
            throw SandboxException.Unavailable("the AT-SPI registry could not be read: " + error?.Message);
        }
        apps = list.Result;
        client.PrunePeers(apps.Select(a => a.Bus).ToHashSet(StringComparer.Ordinal));

        var budget = Math.Min(q.MaxNodes ?? _options.MaxNodes, _options.MaxNodes);
        var remaining = budget;
        int Reserve(int n)
        {
            while (true)
            {
                var have = Volatile.Read(ref remaining);
                var take = Math.Min(have, n);
                if (take <= 0) return 0;
                if (Interlocked.CompareExchange(ref remaining, have - take, have) == have) return take;
            }
        }
        var limits = new WalkLimits(Math.Min(q.MaxDepth ?? _options.MaxDepth, _options.MaxDepth), _options.MaxChildren, budget, timeout,
            q.VisibleOnly, q.ActiveWindow, q.Details, _options.MaxTextLength, q.App);
        var walker = new TreeWalker(client, _ids, limits) { Reserve = Reserve };
        var appFilter = q.App;
        var tasks = apps.Where(a => !a.IsNull).Select(a => Task.Run(() => walker.WalkAppAsync(a, deadline), ct)).ToArray();
        var walked = await Task.WhenAll(tasks);
        if (PeerStream.IsReaderThread) await Task.Yield(); // the rest (and the answer) off an application's reader thread
        var result = new List<AccessibleNode>();
        string? truncated = null;
        foreach (var app in walked)
        {
            if (appFilter is not null && !app.Name.Equals(appFilter, StringComparison.OrdinalIgnoreCase)) continue;
            if (q.ActiveWindow && app.Children.Count == 0) continue;
            if (app.Truncated is not null) truncated ??= $"{(app.Name.Length > 0 ? app.Name : app.Ref.Bus)}: {app.Truncated}";
            result.Add(app);
        }
        if (remaining <= 0) truncated ??= $"element limit of {budget} reached";
        var count = result.Sum(a => a.DescendantsAndSelf().Count());
        ScheduleTrim();
        return new DesktopTree(result, count, truncated, sw.Elapsed.TotalMilliseconds);
    }

    public async Task<(List<AccessibleNode> Matches, DesktopTree Tree)> FindAsync(FindQuery q, CancellationToken ct)
    {
        var matchers = new List<Func<AccessibleNode, bool>>();
        if (q.Role is not null)
        {
            var m = Matcher(q.Role, q.Mode, "role");
            matchers.Add(n => m(n.RoleName) || m(n.RoleName.Replace(' ', '-')) || m(n.RoleName.Replace(' ', '_')));
        }
        if (q.Name is not null) { var m = Matcher(q.Name, q.Mode, "name"); matchers.Add(n => m(n.Name)); }
        Func<AccessibleNode, bool>? textMatcher = null;
        if (q.Text is not null)
        {
            var m = Matcher(q.Text, q.Mode, "text");
            textMatcher = n => (n.Text is { } t && m(t)) || (n.Value is { } v && m(OsWorldXml.PythonFloat(v.Current)));
        }
        foreach (var s in q.States)
        {
            var name = s.Trim().ToLowerInvariant().Replace('-', '_');
            var negate = name.StartsWith('!');
            if (negate) name = name[1..];
            var bit = AtspiNames.StateBit(name);
            if (bit < 0) throw SandboxException.BadField("states", $"unknown state '{s}' (known: {string.Join(", ", AtspiNames.States)})");
            matchers.Add(n => n.HasState(bit) != negate);
        }
        // The structure with what role, name and states need (no per-element detail calls); then the text of the
        // candidates when the query has one, and the details of the matches only.
        var tree = await GetTreeAsync(q.Tree with { Details = Detail.None }, ct);
        var sw = Stopwatch.StartNew();
        var all = tree.Apps.SelectMany(a => a.DescendantsAndSelf()).Where(n => matchers.TrueForAll(m => m(n)));
        var candidates = (textMatcher is null ? all.Take(q.MaxResults) : all).ToList();
        if (candidates.Count == 0) return ([], tree);
        var client = await _bus.GetAsync(ct);
        var timeout = q.Tree.TimeoutMs ?? _options.AppTimeoutMs;
        var walker = new TreeWalker(client, _ids, new WalkLimits(0, 0, 0, timeout, false, false, MaxTextLength: _options.MaxTextLength));
        var truncated = tree.Truncated;
        var deadline = DateTime.UtcNow.AddMilliseconds(timeout);
        if (textMatcher is not null)
        {
            if (!await walker.FetchDetails(candidates, deadline, Detail.TextAndValue))
                truncated ??= $"texts were not all read within {timeout} ms";
            candidates = candidates.Where(textMatcher).Take(q.MaxResults).ToList();
        }
        if (candidates.Count > 0 && !await walker.FetchDetails(candidates, deadline))
            truncated ??= $"details were not all read within {timeout} ms";
        if (PeerStream.IsReaderThread) await Task.Yield();
        return (candidates, tree with { Truncated = truncated, ElapsedMs = tree.ElapsedMs + sw.Elapsed.TotalMilliseconds });
    }

    private static Func<string, bool> Matcher(string pattern, MatchMode mode, string field) => mode switch
    {
        MatchMode.Exact => s => string.Equals(s, pattern, StringComparison.OrdinalIgnoreCase),
        MatchMode.Substring => s => s.Contains(pattern, StringComparison.OrdinalIgnoreCase),
        _ => CompileRegex(pattern, field),
    };

    private static Func<string, bool> CompileRegex(string pattern, string field)
    {
        Regex regex;
        try { regex = new Regex(pattern, RegexOptions.IgnoreCase | RegexOptions.NonBacktracking | RegexOptions.CultureInvariant); }
        catch (ArgumentException e) { throw SandboxException.BadField(field, "invalid regular expression: " + e.Message); }
        catch (NotSupportedException e) { throw SandboxException.BadField(field, "unsupported regular expression: " + e.Message); }
        return regex.IsMatch;
    }

    /// <summary>The deepest showing element whose bounds contain the point, searching the active window first.</summary>
    public async Task<AccessibleNode?> AtAsync(int x, int y, CancellationToken ct)
    {
        var tree = await GetTreeAsync(new TreeQuery(VisibleOnly: true), ct);
        AccessibleNode? best = null;
        var windows = tree.Apps.SelectMany(a => a.Children).OrderByDescending(w => w.HasState(AtspiNames.Active)).ToList();
        foreach (var w in windows)
        {
            best = Deepest(w, x, y);
            if (best is not null) break;
        }
        return best;
    }

    private static AccessibleNode? Deepest(AccessibleNode n, int x, int y)
    {
        if (n.Extents is not { } e || x < e.X || y < e.Y || x >= e.X + e.W || y >= e.Y + e.H) return null;
        for (var i = n.Children.Count - 1; i >= 0; i--)
            if (Deepest(n.Children[i], x, y) is { } hit) return hit;
        return n;
    }

    /// <summary>
    /// The element's current bounds in screen coordinates (x, y, width, height), read now. Null when it has
    /// none (no Component interface, or not showing). Throws NotFound for an unknown or vanished element.
    /// </summary>
    public async Task<(int X, int Y, int Width, int Height)?> GetBoundsAsync(int id, CancellationToken ct = default)
    {
        var (client, r, states) = await ResolveAsync(id, ct);
        if (!AtspiNames.Has(states, AtspiNames.Showing)) return null;
        (int X, int Y, int W, int H) ext;
        // No Component interface (UnknownInterface/UnknownMethod → Conflict with a "missing" text): no bounds.
        try { ext = await Call(client.GetExtents(r), r, missing: "no Component interface"); }
        catch (SandboxException e) when (e.Kind == ErrorKind.Conflict) { return null; }
        return ext.W <= 0 || ext.H <= 0 ? null : (ext.X, ext.Y, ext.W, ext.H);
    }

    /// <summary>Reads one element now (basics and details), for answers about a single element.</summary>
    public async Task<AccessibleNode> GetElementAsync(int id, CancellationToken ct)
    {
        var (client, r, _) = await ResolveAsync(id, ct);
        var walker = new TreeWalker(client, _ids, new WalkLimits(0, 0, 1, _options.ActionTimeoutMs, false, false));
        var node = await walker.ReadOneAsync(r, DateTime.UtcNow.AddMilliseconds(_options.ActionTimeoutMs));
        return node ?? throw SandboxException.NotFound($"element {id} no longer exists");
    }

    public async Task<bool> ActAsync(int id, string action, string? name, string? text, double? value, CancellationToken ct)
    {
        var (client, r, _) = await ResolveAsync(id, ct);
        switch (action)
        {
            case "do_action":
            {
                var actions = await Call(client.GetActionsWithNames(r), r, missing: "the element has no actions");
                if (actions.Length == 0) throw SandboxException.Conflict($"element {id} has no actions");
                var index = name is null ? 0 : Array.FindIndex(actions, a => Same(a.Name, name));
                if (index < 0)
                    throw SandboxException.BadField("name", $"element {id} has no action '{name}' (it has: {string.Join(", ", actions.Select(a => a.Name))})");
                return await Call(client.DoAction(r, index), r);
            }
            case "focus":
                return await Call(client.GrabFocus(r), r, missing: $"element {id} cannot take focus (no Component interface)");
            case "set_text":
                if (text is null) throw SandboxException.BadField("text", "set_text needs text");
                if (text.Length > _options.MaxTextLength) throw SandboxException.BadField("text", $"longer than {_options.MaxTextLength} characters");
                return await Call(client.SetTextContents(r, text), r, missing: $"element {id} has no editable text");
            case "set_value":
                if (value is not { } v || !double.IsFinite(v)) throw SandboxException.BadField("value", "set_value needs a finite number");
                await Call(client.SetValue(r, v).ContinueWith(t => { t.GetAwaiter().GetResult(); return true; }, TaskScheduler.Default), r,
                    missing: $"element {id} has no value");
                return true;
            case "select":
            {
                var parent = await Call(client.GetParent(r), r);
                var index = await Call(client.GetIndexInParent(r), r);
                if (parent.IsNull || index < 0) throw SandboxException.Conflict($"element {id} has no parent to select it in");
                return await Call(client.SelectChild(parent, index), parent, missing: $"the parent of element {id} has no selection");
            }
            default:
                throw SandboxException.BadField("action", $"unknown action '{action}' (do_action, focus, set_text, set_value, select)");
        }
    }

    private static bool Same(string a, string b) =>
        string.Equals(a.Replace('-', ' ').Trim(), b.Replace('-', ' ').Trim(), StringComparison.OrdinalIgnoreCase);

    private async Task<(AtspiClient Client, ObjRef Ref, ulong States)> ResolveAsync(int id, CancellationToken ct)
    {
        // The bus first: without one every id is unknown, and the answer that helps is "no bus" (503), not 404.
        var client = await _bus.GetAsync(ct);
        if (!_ids.TryGet(id, out var r)) throw SandboxException.NotFound($"no element {id} (ids come from a tree or find answer)");
        var first = client.GetState(r);
        if (!await TreeWalker.Within(first, DateTime.UtcNow.AddMilliseconds(_options.ActionTimeoutMs)))
            throw SandboxException.Timeout($"the application did not answer within {_options.ActionTimeoutMs} ms");
        // A connection lost under this read is usually the application's own direct connection, closed because
        // the application exited while the call was on its way (one that ended before is passed over by the
        // client's routing). Asked again through the bus, the daemon then answers
        // for the name (gone: 404) or the application answers (it is alive). A read only: nothing is done twice.
        if (first.Exception?.InnerException is DBusConnectionClosedException or DBusConnectionException)
        {
            client.DropPeer(r.Bus);
            first = client.GetState(r);
        }
        var states = await Call(first, r);
        if (AtspiNames.Has(states, AtspiNames.Defunct)) throw SandboxException.NotFound($"element {id} no longer exists");
        return (client, r, states);
    }

    /// <summary>Awaits one call within the action budget, mapping D-Bus errors to the request's terms.</summary>
    private async Task<T> Call<T>(Task<T> call, ObjRef r, string? missing = null)
    {
        if (!await TreeWalker.Within(call, DateTime.UtcNow.AddMilliseconds(_options.ActionTimeoutMs)))
            throw SandboxException.Timeout($"the application did not answer within {_options.ActionTimeoutMs} ms");
        // The caller (another area acting on the element) goes on off the application's reader thread.
        if (PeerStream.IsReaderThread) await Task.Yield();
        if (call.IsCompletedSuccessfully) return call.Result;
        var e = call.Exception?.InnerException;
        if (e is DBusErrorReplyException d)
        {
            if (d.ErrorName is "org.freedesktop.DBus.Error.ServiceUnknown" or "org.freedesktop.DBus.Error.UnknownObject"
                or "org.freedesktop.DBus.Error.NoReply" or "org.freedesktop.DBus.Error.NameHasNoOwner")
                throw SandboxException.NotFound($"the element no longer exists ({d.ErrorName})");
            if (d.ErrorName is "org.freedesktop.DBus.Error.UnknownMethod" or "org.freedesktop.DBus.Error.UnknownInterface"
                or "org.freedesktop.DBus.Error.UnknownProperty")
                throw missing is not null ? SandboxException.Conflict(missing) : SandboxException.NotFound("the element no longer exists");
            throw SandboxException.Conflict($"the application refused: {d.ErrorMessage}");
        }
        if (e is DBusConnectionClosedException or DBusConnectionException)
            throw SandboxException.Unavailable("the accessibility bus connection was lost: " + e.Message);
        _log.LogDebug(e, "AT-SPI call on {Ref} failed", r);
        throw SandboxException.Unavailable("the AT-SPI call failed: " + e?.Message);
    }

    private long _lastTrim;
    private Timer? _trimTimer;

    /// <summary>
    /// A walk leaves its garbage (thousands of calls' messages and tasks) to the GC, which keeps the heap it
    /// grew as RSS until a full collection. One compacting full collection that decommits the free space
    /// (GCCollectionMode.Aggressive) gives it back: half a second after the last walk of a burst, and during
    /// a long burst at most every <see cref="AccessibilityOptions.TrimIntervalMs"/> (a quarter second after a walk).
    /// </summary>
    private void ScheduleTrim()
    {
        if (_options.TrimIntervalMs <= 0) return;
        var timer = _trimTimer;
        if (timer is null)
        {
            timer = new Timer(static s => ((AccessibilityService)s!).Trim(), this, Timeout.Infinite, Timeout.Infinite);
            if (Interlocked.CompareExchange(ref _trimTimer, timer, null) is { } other) { timer.Dispose(); timer = other; }
        }
        timer.Change(500, Timeout.Infinite); // pushed back by every walk: fires once the burst is over
        var now = Environment.TickCount64;
        var last = Interlocked.Read(ref _lastTrim);
        if (now - last >= _options.TrimIntervalMs && Interlocked.CompareExchange(ref _lastTrim, now, last) == last)
            _ = Task.Delay(250).ContinueWith(static (_, s) => ((AccessibilityService)s!).Trim(), this, TaskScheduler.Default);
    }

    private void Trim()
    {
        Interlocked.Exchange(ref _lastTrim, Environment.TickCount64);
        GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
    }

    public void Dispose()
    {
        _trimTimer?.Dispose();
        _bus.Dispose();
    }
}
