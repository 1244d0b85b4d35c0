namespace Sandbox.Accessibility;

/// <summary>
/// The per-element detail calls a walk makes, beyond the structure, roles, names and states. Each is one call
/// per element the application must answer (an extent is also one X round trip for GTK), so an answer that
/// does not show a detail does not read it: the text format shows no attributes.
/// </summary>
[Flags]
internal enum Detail
{
    None = 0,
    Attributes = 1,
    Extents = 2,
    Text = 4,
    Value = 8,
    Actions = 16,
    /// <summary>What find matches text against.</summary>
    TextAndValue = Text | Value,
    All = Attributes | Extents | Text | Value | Actions,
}

/// <summary>What one walk reads and how far it goes.</summary>
internal sealed record WalkLimits(int MaxDepth, int MaxChildren, int MaxNodes, int TimeoutMs, bool VisibleOnly, bool ActiveWindowOnly,
    Detail Details = Detail.All, int MaxTextLength = 100_000, string? App = null);

/// <summary>
/// Walks one application. Structure comes from the toolkit's cache (one GetItems call) where it is
/// offered and complete, else from GetChildren level by level; the calls of one level, and the detail
/// calls (attributes, extents, text, value, actions) of all elements, are sent together and awaited
/// together. Everything is bounded by a deadline: an application that stops answering yields the part
/// read so far, marked truncated.
/// </summary>
internal sealed class TreeWalker(AtspiClient client, ElementIds ids, WalkLimits limits)
{
    private int _nodes;

    /// <summary>Each application's cache barrier (<see cref="AtspiClient.Barrier"/>), started when its walk starts.</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Task> _barriers = new(StringComparer.Ordinal);

    public int NodeCount => _nodes;

    /// <summary>Reserves room for <paramref name="n"/> elements shared by all applications of one walk.</summary>
    public Func<int, int> Reserve { get; init; } = n => n;

    public async Task<AccessibleNode> WalkAppAsync(ObjRef root, DateTime deadline)
    {
        client.EnsurePeer(root.Bus);
        var app = await WalkAppCoreAsync(root, deadline).ConfigureAwait(false);
        // An application that ran past the budget may be stopped: its direct connection is closed so that its
        // unanswered calls do not pile up (through the bus, the daemon times them out).
        if (DateTime.UtcNow >= deadline) client.DropPeer(root.Bus);
        return app;
    }

    private async Task<AccessibleNode> WalkAppCoreAsync(ObjRef root, DateTime deadline)
    {
        var app = new AccessibleNode(root, 1) { Id = ids.IdOf(root) };
        if (Reserve(1) < 1) { app.Truncated = "element limit reached"; return app; }
        Interlocked.Increment(ref _nodes);
        Task<CacheItem[]> itemsTask;
        Task[] basics;
        using (client.Cork(root.Bus))
        {
            itemsTask = client.GetItems(root.Bus);
            basics = FetchBasics(app);
        }
        if (!await Within(Task.WhenAll(basics), deadline))
        {
            app.Truncated = $"the application did not answer within {limits.TimeoutMs} ms";
            Apply(app, basics);
            return app;
        }
        Apply(app, basics);
        if (!app.HasBasics) { app.Truncated = "the application's root could not be read"; return app; }
        if (limits.App is not null && !app.Name.Equals(limits.App, StringComparison.OrdinalIgnoreCase))
        {
            Observe(itemsTask);
            return app; // not asked for: the caller drops it
        }
        DetailCache.AppCache? cacheApp = null;
        long cacheWalk = 0;
        if (limits.Details != Detail.None && client.Details is { } cache)
        {
            cacheApp = cache.For(root.Bus);
            cacheWalk = cache.BeginWalk(cacheApp);
            _barriers[root.Bus] = client.Barrier(root.Bus); // awaited (long answered) before the details
        }

        Dictionary<string, CacheItem>? byPath = null;
        if (await Within(itemsTask, deadline) && itemsTask.IsCompletedSuccessfully)
        {
            byPath = new Dictionary<string, CacheItem>(StringComparer.Ordinal);
            foreach (var item in itemsTask.Result)
            {
                if (item.Self.Bus != root.Bus) continue;
                byPath[item.Self.Path] = item;
            }
        }
        else
        {
            _ = itemsTask.ContinueWith(static t => _ = t.Exception, TaskScheduler.Default);
        }

        // Children lists. The cache gives each element's parent and index, but its indexes can disagree with
        // the order the toolkit reports (GTK header bars). So the cache's order is checked against GetChildren
        // (asked for every element at once, one pipelined wave) and an application whose order matched is then
        // walked from the cache alone, rechecked now and then (AtspiClient.CacheOrderTrusted).
        Dictionary<string, ObjRef[]>? cached = null;
        Dictionary<string, Task<ObjRef[]>>? prefetched = null;
        if (byPath is not null)
        {
            cached = CachedChildren(root, app.ChildCount, byPath);
            if (!client.CacheOrderTrusted(root.Bus))
            {
                using (client.Cork(root.Bus))
                {
                    prefetched = new Dictionary<string, Task<ObjRef[]>>(StringComparer.Ordinal) { [root.Path] = client.GetChildren(root) };
                    foreach (var item in byPath.Values)
                        if (item.ChildCount > 0 && !AtspiNames.Has(item.States, AtspiNames.ManagesDescendants))
                            prefetched[item.Self.Path] = client.GetChildren(item.Self);
                }
                if (await Within(Task.WhenAll(prefetched.Values), deadline))
                {
                    // Elements whose cached children are incomplete are asked for live even when trusted: only the
                    // lists the cache does give are compared.
                    var same = true;
                    var compared = 0;
                    foreach (var (path, task) in prefetched)
                    {
                        if (!cached.TryGetValue(path, out var list)) continue;
                        compared++;
                        if (!task.IsCompletedSuccessfully || !list.AsSpan().SequenceEqual(task.Result))
                        {
                            same = false;
                            break;
                        }
                    }
                    client.SetCacheOrderTrusted(root.Bus, same && compared > 0);
                }
                cached = null;
            }
        }

        var all = new List<AccessibleNode> { app };
        var level = new List<AccessibleNode> { app };
        while (level.Count > 0)
        {
            // Children of each element of this level: from the cache when it lists all of them, else asked for.
            var childRefs = new ObjRef[]?[level.Count];
            var asks = new List<(int Index, Task<ObjRef[]> Task)>();
            using (client.Cork(root.Bus))
            {
                for (var i = 0; i < level.Count; i++)
                {
                    var node = level[i];
                    if (node.Depth >= limits.MaxDepth || node.ChildCount == 0) continue;
                    if (cached is not null && node.Ref.Bus == root.Bus && !node.HasState(AtspiNames.ManagesDescendants)
                        && cached.TryGetValue(node.Ref.Path, out var fromCache))
                        childRefs[i] = fromCache;
                    else if (prefetched is not null && node.Ref.Bus == root.Bus && prefetched.TryGetValue(node.Ref.Path, out var pre)
                        && pre.IsCompletedSuccessfully)
                        childRefs[i] = pre.Result;
                    else
                        asks.Add((i, client.GetChildren(node.Ref)));
                }
            }
            var complete = await Within(Task.WhenAll(asks.Select(a => a.Task)), deadline);
            foreach (var (index, task) in asks)
                if (task.IsCompletedSuccessfully) childRefs[index] = task.Result;
                else if (!complete) level[index].Truncated = $"the application did not answer within {limits.TimeoutMs} ms";

            var next = new List<AccessibleNode>();
            var live = new List<(AccessibleNode Node, Task[] Calls)>();
            using (client.Cork(root.Bus))
            {
                for (var i = 0; i < level.Count; i++)
                {
                    var refs = childRefs[i];
                    if (refs is null) continue;
                    var parent = level[i];
                    var take = Math.Min(refs.Length, limits.MaxChildren);
                    var granted = Reserve(take);
                    if (granted < refs.Length) parent.Truncated = granted < take ? "element limit reached" : $"more than {limits.MaxChildren} children";
                    for (var k = 0; k < granted; k++)
                    {
                        var r = refs[k];
                        if (r.IsNull) continue;
                        var child = new AccessibleNode(r, parent.Depth + 1) { Id = ids.IdOf(r), ParentPath = parent.Ref.Path };
                        if (byPath is not null && r.Bus == root.Bus && byPath.TryGetValue(r.Path, out var item))
                        {
                            child.Name = item.Name;
                            child.Role = item.Role;
                            child.Description = item.Description;
                            child.States = item.States;
                            child.Interfaces = item.Interfaces;
                            child.ChildCount = item.ChildCount;
                            child.HasBasics = true;
                        }
                        else live.Add((child, FetchBasics(child)));
                        parent.Children.Add(child);
                        Interlocked.Increment(ref _nodes);
                    }
                }
            }
            if (live.Count > 0)
            {
                var ok = await Within(Task.WhenAll(live.SelectMany(l => l.Calls)), deadline);
                foreach (var (node, calls) in live) Apply(node, calls);
                if (!ok)
                    foreach (var parent in level)
                        if (parent.Children.Exists(c => !c.HasBasics))
                            parent.Truncated = $"the application did not answer within {limits.TimeoutMs} ms";
            }
            // Elements that could not be read are dropped (gone, or their application stopped answering:
            // then the parent says so); with visible_only, elements not showing are dropped with their subtrees.
            foreach (var parent in level)
            {
                parent.Children.RemoveAll(c => !c.HasBasics || (limits.VisibleOnly && !c.IsShowing));
                next.AddRange(parent.Children);
            }
            all.AddRange(next);
            level = next;
            if (DateTime.UtcNow >= deadline && level.Count > 0)
            {
                foreach (var n in level) n.Truncated ??= $"the walk ran out of its {limits.TimeoutMs} ms budget";
                app.Truncated ??= $"the walk ran out of its {limits.TimeoutMs} ms budget";
                break;
            }
        }

        if (limits.ActiveWindowOnly)
        {
            app.Children.RemoveAll(w => !w.HasState(AtspiNames.Active));
            all = app.DescendantsAndSelf().ToList();
        }

        if (limits.Details != Detail.None && !await FetchDetails(all, deadline, limits.Details))
            app.Truncated ??= $"details were not all read within {limits.TimeoutMs} ms";
        // A whole, unfiltered walk met every element still there: the cache forgets the others.
        if (cacheApp is not null && app.Truncated is null && !limits.VisibleOnly && !limits.ActiveWindowOnly)
            client.Details!.Sweep(cacheApp, cacheWalk);
        return app;
    }

    /// <summary>
    /// Each element's children as the cache orders them (by index), for the elements whose cached children are
    /// exactly indexes 0..n-1 with n its child count; others are not in the answer (asked for live).
    /// </summary>
    private static Dictionary<string, ObjRef[]> CachedChildren(ObjRef root, int rootChildCount, Dictionary<string, CacheItem> byPath)
    {
        var byParent = new Dictionary<string, List<CacheItem>>(StringComparer.Ordinal);
        foreach (var item in byPath.Values)
        {
            if (item.Parent.Bus != root.Bus || item.Parent.IsNull) continue;
            if (!byParent.TryGetValue(item.Parent.Path, out var list)) byParent[item.Parent.Path] = list = [];
            list.Add(item);
        }
        var result = new Dictionary<string, ObjRef[]>(StringComparer.Ordinal);
        foreach (var (parent, list) in byParent)
        {
            var count = parent == root.Path ? rootChildCount : byPath.TryGetValue(parent, out var p) ? p.ChildCount : -1;
            if (list.Count != count) continue;
            var refs = new ObjRef[count];
            var ok = true;
            foreach (var item in list)
            {
                if (item.Index < 0 || item.Index >= count || refs[item.Index].Path is not null) { ok = false; break; }
                refs[item.Index] = item.Self;
            }
            if (ok) result[parent] = refs;
        }
        return result;
    }

    /// <summary>Reads one element (basics and details) without its children; null when it cannot be read.</summary>
    public async Task<AccessibleNode?> ReadOneAsync(ObjRef r, DateTime deadline)
    {
        var node = new AccessibleNode(r, 0) { Id = ids.IdOf(r) };
        var calls = FetchBasics(node);
        await Within(Task.WhenAll(calls), deadline);
        Apply(node, calls);
        if (!node.HasBasics) return null;
        await FetchDetails([node], deadline);
        return node;
    }

    private Task[] FetchBasics(AccessibleNode node) =>
    [
        client.GetBasics(node.Ref), client.GetRole(node.Ref), client.GetState(node.Ref), client.GetInterfaces(node.Ref),
    ];

    private static void Apply(AccessibleNode node, Task[] calls)
    {
        if (calls[0] is Task<(string Name, string Description, int ChildCount)> { IsCompletedSuccessfully: true } b)
        {
            node.Name = b.Result.Name;
            node.Description = b.Result.Description;
            node.ChildCount = b.Result.ChildCount;
        }
        else return;
        if (calls[1] is Task<uint> { IsCompletedSuccessfully: true } role) node.Role = role.Result;
        else return;
        if (calls[2] is Task<ulong> { IsCompletedSuccessfully: true } states) node.States = states.Result;
        if (calls[3] is Task<string[]> { IsCompletedSuccessfully: true } ifaces) node.Interfaces = ifaces.Result;
        node.HasBasics = true;
    }

    /// <summary>
    /// The details of <paramref name="what"/> (attributes, extents of showing elements, text, value, actions), all
    /// pipelined.
    /// </summary>
    internal async Task<bool> FetchDetails(List<AccessibleNode> nodes, DateTime deadline, Detail what = Detail.All)
    {
        // The detail cache, per application: usable once the application's barrier answered (every event it sent
        // before is in), with the event count read then (what was read after it is stored unless an event came).
        var cached = client.Details is { } cache ? await CacheStates(cache, nodes, deadline) : null;

        // A big wave is issued from a thread-pool thread, not from an application's reader thread (where the walk
        // continues after its replies): that thread then reads the first replies while the rest is being written.
        // A small one is written at once from where it is (a thread hop costs more than it would save).
        if (nodes.Count > 500 && PeerStream.IsReaderThread) await Task.Yield();
        var tasks = new List<Task>(nodes.Count * 3);
        // Each call with its element and, when the element's details may be stored, where what the call read is marked.
        var results = new List<(AccessibleNode Node, Task Call, DetailCache.Read? Read)>(nodes.Count * 3);
        var corks = new List<PeerStream.CorkScope>(2);
        string? corked = null;
        // One group per run of an application's elements (they come grouped): stored together once the replies are in.
        var toStore = new List<(DetailCache.AppCache App, long Mark, List<DetailCache.Read> Reads)>();
        List<DetailCache.Read>? reads = null;
        try
        {
            foreach (var node in nodes)
            {
                if (node.Ref.Bus != corked) // nodes come grouped by application: a few corks
                {
                    corked = node.Ref.Bus;
                    corks.Add(client.Cork(corked));
                    reads = null;
                    if (cached is not null && cached.TryGetValue(corked, out var st))
                        toStore.Add((st.App, st.Mark, reads = []));
                }
                if (!node.HasBasics) continue;
                DetailCache.Hit? entry = null;
                DetailCache.Read? stored = null;
                if (reads is not null)
                {
                    entry = client.Details!.Lookup(toStore[^1].App, node);
                    reads.Add(stored = new DetailCache.Read(node));
                }
                if (what.HasFlag(Detail.Attributes)) Add(node, client.GetAttributes(node.Ref), stored);
                if (what.HasFlag(Detail.Extents) && node.IsShowing && node.Has(AtspiClient.Component)) Add(node, client.GetExtents(node.Ref), stored);
                if (what.HasFlag(Detail.Text) && node.Text is null && node.Has(AtspiClient.Text))
                {
                    if (entry is { HasText: true } h1) node.Text = h1.Text;
                    else Add(node, client.GetText(node.Ref), stored);
                }
                if (what.HasFlag(Detail.Value) && node.Value is null && node.Has(AtspiClient.Value))
                {
                    if (entry is { HasValue: true } h2) node.Value = h2.Value;
                    else Add(node, client.GetValue(node.Ref), stored);
                }
                if (what.HasFlag(Detail.Actions) && node.Has(AtspiClient.Action))
                {
                    if (entry is { HasActions: true } h3) node.Actions = h3.Actions;
                    else Add(node, client.GetActionsWithNames(node.Ref), stored);
                }
            }
        }
        finally
        {
            foreach (var c in corks) c.Dispose();
        }
        var ok = await Within(Task.WhenAll(tasks), deadline);
        foreach (var (node, call, read) in results)
        {
            switch (call)
            {
                case { IsCompletedSuccessfully: false }: break;
                case Task<List<KeyValuePair<string, string>>> attrs: node.Attributes = attrs.Result; break;
                case Task<(int X, int Y, int W, int H)> ext: node.Extents = ext.Result; break;
                case Task<string> text:
                    var t = text.Result;
                    node.Text = t.Length > limits.MaxTextLength ? t[..limits.MaxTextLength] : t;
                    if (read is not null) read.Text = true;
                    break;
                case Task<ValueInfo> value:
                    node.Value = value.Result;
                    if (read is not null) read.Value = true;
                    break;
                case Task<ActionInfo[]> actions:
                    node.Actions = actions.Result;
                    if (read is not null) read.Actions = true;
                    break;
            }
        }
        foreach (var (app, mark, group) in toStore)
            if (group.Count > 0) client.Details!.Store(app, mark, group);
        return ok;

        void Add(AccessibleNode node, Task call, DetailCache.Read? read)
        {
            tasks.Add(call);
            results.Add((node, call, read));
        }
    }

    /// <summary>
    /// For each application of <paramref name="nodes"/>: its cache and event count once its barrier answered within
    /// the deadline; applications whose barrier did not answer are read without the cache.
    /// </summary>
    private async Task<Dictionary<string, (DetailCache.AppCache App, long Mark)>?> CacheStates(DetailCache cache, List<AccessibleNode> nodes, DateTime deadline)
    {
        Dictionary<string, Task>? waits = null;
        string? last = null;
        foreach (var node in nodes)
        {
            if (node.Ref.Bus == last) continue;
            last = node.Ref.Bus;
            waits ??= new Dictionary<string, Task>(StringComparer.Ordinal);
            if (!waits.ContainsKey(last)) waits[last] = _barriers.GetOrAdd(last, client.Barrier);
        }
        if (waits is null) return null;
        await Within(Task.WhenAll(waits.Values), deadline);
        var result = new Dictionary<string, (DetailCache.AppCache, long)>(StringComparer.Ordinal);
        foreach (var (bus, task) in waits)
            if (task.IsCompletedSuccessfully) result[bus] = (cache.For(bus), cache.Mark(bus));
        return result;
    }

    /// <summary>Waits for <paramref name="task"/> until the deadline; false when the deadline came first. Never throws.</summary>
    internal static async Task<bool> Within(Task task, DateTime deadline)
    {
        if (!task.IsCompleted)
        {
            var remaining = deadline - DateTime.UtcNow;
            if (remaining <= TimeSpan.Zero) { Observe(task); return false; }
            using var cts = new CancellationTokenSource();
            var delay = Task.Delay(remaining, cts.Token);
            if (await Task.WhenAny(task, delay).ConfigureAwait(false) != task) { Observe(task); return false; }
            cts.Cancel();
        }
        _ = task.Exception; // observed: failures of single calls are read per call
        return true;
    }

    private static void Observe(Task task) => _ = task.ContinueWith(static t => _ = t.Exception, TaskScheduler.Default);
}
