using System.Collections.Concurrent;

namespace Sandbox.Accessibility;

/// <summary>
/// Event-driven cache of the element details that cost one or more calls into the application each walk
/// and that the toolkit announces when they change: text (<c>Text.GetText</c>), value (the four
/// <c>Value</c> properties) and actions (<c>Action.GetActions</c> plus one <c>GetName</c> per action).
/// Attributes and extents are never cached (no reliable event: GTK emits no attributes-changed, and a
/// window move changes every element's screen position without an event per element).
/// <para>
/// An entry is used only while (1) no AT-SPI object event (<c>org.a11y.atspi.Event.Object</c>: text-changed,
/// property-change, state-changed, children-changed, attributes-changed, value-changed...) has arrived for the
/// element or one of its descendants since it was read, and (2) the element's basics read fresh in this walk
/// (role, name, description, states, interfaces, child count: from the toolkit's cache or live) equal those it
/// had when it was read. Events travel through the bus daemon while replies come over the direct connection,
/// so before a walk consults the cache it sends one call to the application through the bus
/// (<c>org.freedesktop.DBus.Peer.Ping</c>, <see cref="AtspiClient.Barrier"/>): the daemon delivers what the
/// application sent before that reply (its events) before the reply. An entry read while events for it were
/// arriving is not kept (a ring of each application's recent events is checked when entries are stored).
/// </para>
/// </summary>
internal sealed class DetailCache
{
    /// <summary>Recent events remembered per application, to tell which entries read during a burst of events are stale.</summary>
    private const int RingSize = 1024;

    private readonly ConcurrentDictionary<string, AppCache> _apps = new(StringComparer.Ordinal);

    /// <summary>Largest entry count of one application before its cache starts over.</summary>
    public int MaxEntries { get; init; } = 100_000;

    internal sealed class Entry
    {
        /// <summary>The element's object path: the same string as its key (a child's <see cref="Parent"/> points to it).</summary>
        public string Path = "";
        public uint Role;
        public ulong States;
        public string Name = "";
        public string Description = "";
        public int ChildCount;
        public string[] Interfaces = [];
        public string? Parent;
        public bool Invalid;
        public long Touched;
        public bool HasText, HasValue, HasActions;
        public string? Text;
        public ValueInfo? Value;
        public ActionInfo[]? Actions;

        public bool Matches(AccessibleNode n) =>
            !Invalid && Role == n.Role && States == n.States && ChildCount == n.ChildCount && Name == n.Name
            && Description == n.Description && (ReferenceEquals(Interfaces, n.Interfaces) || Interfaces.AsSpan().SequenceEqual(n.Interfaces));
    }

    internal sealed class AppCache
    {
        public readonly Dictionary<string, Entry> Entries = new(StringComparer.Ordinal);
        public readonly (string Path, long Seq)[] Ring = new (string, long)[RingSize];
        public long Seq;
        public long Walks;

        /// <summary>
        /// The distinct action lists and interface lists met (a few dozen per application: most elements share theirs), so
        /// that thousands of entries hold one copy each.
        /// </summary>
        public readonly List<ActionInfo[]> ActionLists = [];
        public readonly List<string[]> InterfaceLists = [];
    }

    private static T[] Shared<T>(List<T[]> known, T[] list)
    {
        foreach (var k in known)
            if (k.AsSpan().SequenceEqual(list)) return k;
        if (known.Count < 256) known.Add(list);
        return list;
    }

    public AppCache For(string bus) => _apps.GetOrAdd(bus, static _ => new AppCache());

    /// <summary>The current event count of an application: read after the barrier, before the calls whose answers are stored.</summary>
    public long Mark(string bus)
    {
        var app = For(bus);
        lock (app) return app.Seq;
    }

    /// <summary>An object event from <paramref name="bus"/> about <paramref name="path"/>: the element and its ancestors are read again.</summary>
    public void OnEvent(string bus, string path)
    {
        if (!_apps.TryGetValue(bus, out var app)) return; // never walked: nothing cached, and no walk under way whose reads it could spoil
        lock (app)
        {
            var seq = ++app.Seq;
            var p = path;
            for (var depth = 0; p is not null && depth < 200; depth++)
            {
                app.Ring[seq % RingSize] = (p, seq);
                if (!app.Entries.TryGetValue(p, out var e)) break;
                e.Invalid = true;
                p = e.Parent;
                if (p is not null) seq = ++app.Seq;
            }
        }
    }

    /// <summary>One element whose details a walk may store, and which of them it read live (set as the replies come).</summary>
    internal sealed class Read(AccessibleNode node)
    {
        public AccessibleNode Node { get; } = node;
        public bool Text, Value, Actions;
    }

    /// <summary>What the cache holds for one element (a copy, taken under the application's lock).</summary>
    internal readonly record struct Hit(bool HasText, string? Text, bool HasValue, ValueInfo? Value, bool HasActions, ActionInfo[]? Actions);

    /// <summary>What the cache holds for <paramref name="node"/> and still applies, or null.</summary>
    public Hit? Lookup(AppCache app, AccessibleNode node)
    {
        lock (app)
        {
            if (!app.Entries.TryGetValue(node.Ref.Path, out var e) || !e.Matches(node)) return null;
            e.Touched = app.Walks;
            return new Hit(e.HasText, e.Text, e.HasValue, e.Value, e.HasActions, e.Actions);
        }
    }

    /// <summary>
    /// Stores what was just read of the elements of <paramref name="read"/> (each linked to its
    /// <see cref="AccessibleNode.ParentPath"/>), after calls sent when the application's event count was
    /// <paramref name="mark"/>; elements an event arrived for since then are not stored.
    /// </summary>
    public void Store(AppCache app, long mark, List<Read> read)
    {
        lock (app)
        {
            HashSet<string>? dirty = null;
            if (app.Seq != mark)
            {
                if (app.Seq - mark >= RingSize) return; // too many events to tell which elements they were about
                dirty = new HashSet<string>(StringComparer.Ordinal);
                for (var s = mark + 1; s <= app.Seq; s++)
                {
                    var (p, seq) = app.Ring[s % RingSize];
                    if (seq == s && p is not null) dirty.Add(p);
                }
            }
            if (app.Entries.Count + read.Count > MaxEntries) app.Entries.Clear();
            foreach (var r in read)
            {
                var node = r.Node;
                var path = node.Ref.Path;
                if (dirty is not null && dirty.Contains(path))
                {
                    app.Entries.Remove(path);
                    continue;
                }
                if (!app.Entries.TryGetValue(path, out var e) || !e.Matches(node))
                {
                    e = new Entry
                    {
                        Path = path, Role = node.Role, States = node.States, Name = node.Name, Description = node.Description,
                        ChildCount = node.ChildCount, Interfaces = Shared(app.InterfaceLists, node.Interfaces),
                    };
                    app.Entries[path] = e;
                }
                if (node.ParentPath is { } parent) e.Parent = app.Entries.TryGetValue(parent, out var pe) ? pe.Path : parent;
                e.Touched = app.Walks;
                if (r.Text) { e.HasText = true; e.Text = node.Text; }
                if (r.Value) { e.HasValue = true; e.Value = node.Value; }
                if (r.Actions) { e.HasActions = true; e.Actions = node.Actions is { } a ? Shared(app.ActionLists, a) : null; }
            }
        }
    }

    /// <summary>Starts a walk of the whole application: entries not met by the walk are dropped by <see cref="Sweep"/>.</summary>
    public long BeginWalk(AppCache app)
    {
        lock (app) return ++app.Walks;
    }

    /// <summary>After a complete, unfiltered walk: forgets the elements it did not meet (gone, or moved away).</summary>
    public void Sweep(AppCache app, long walk)
    {
        lock (app)
        {
            if (app.Walks != walk) return; // another walk began meanwhile
            List<string>? gone = null;
            foreach (var (path, e) in app.Entries)
                if (e.Touched != walk) (gone ??= []).Add(path);
            if (gone is not null) foreach (var p in gone) app.Entries.Remove(p);
        }
    }

    /// <summary>Forgets applications no longer on the bus.</summary>
    public void Prune(IReadOnlyCollection<string> live)
    {
        foreach (var bus in _apps.Keys)
            if (!live.Contains(bus)) _apps.TryRemove(bus, out _);
    }

    /// <summary>Element count cached (for tests).</summary>
    public int Count => _apps.Values.Sum(a => { lock (a) return a.Entries.Count; });
}
