using System.Collections.Concurrent;
using Tmds.DBus.Protocol;

namespace Sandbox.Accessibility;

/// <summary>An AT-SPI object: the bus name of its application and its object path.</summary>
internal readonly record struct ObjRef(string Bus, string Path)
{
    public const string NullPath = "/org/a11y/atspi/null";
    public bool IsNull => Path.Length == 0 || Path == NullPath;
    public override string ToString() => Bus + Path;
}

/// <summary>Everything the cache of a toolkit bridge says about one object (org.a11y.atspi.Cache.GetItems).</summary>
internal sealed record CacheItem(ObjRef Self, ObjRef Parent, int Index, int ChildCount, string[] Interfaces,
    string Name, uint Role, string Description, ulong States);

internal sealed record ActionInfo(string Name, string Description, string KeyBinding);

internal sealed record ValueInfo(double Current, double Minimum, double Maximum, double Step)
{
    /// <summary>Bits (1 current, 2 minimum, 4 maximum, 8 step) of the properties the application could not give.</summary>
    public int Missing { get; init; }

    public bool Has(int bit) => (Missing & bit) == 0;
}

/// <summary>
/// Typed AT-SPI calls over one D-Bus connection. Every call returns a task without waiting for the
/// reply, so callers pipeline: they issue the calls for many objects and then await them together.
/// </summary>
internal sealed class AtspiClient(DBusConnection connection) : IDisposable
{
    public const string Accessible = "org.a11y.atspi.Accessible";
    public const string Component = "org.a11y.atspi.Component";
    public const string Text = "org.a11y.atspi.Text";
    public const string EditableText = "org.a11y.atspi.EditableText";
    public const string Value = "org.a11y.atspi.Value";
    public const string Action = "org.a11y.atspi.Action";
    public const string Selection = "org.a11y.atspi.Selection";
    public const string Image = "org.a11y.atspi.Image";
    private const string Properties = "org.freedesktop.DBus.Properties";
    private const string RegistryBus = "org.a11y.atspi.Registry";

    /// <summary>The connection to the accessibility bus (registry, events, and applications without a direct connection).</summary>
    public DBusConnection Connection { get; } = connection;

    /// <summary>
    /// Direct (peer-to-peer) connections to applications, by their bus name, opened in the background
    /// from org.a11y.atspi.Application.GetApplicationBusAddress. A call to an application goes over its
    /// direct connection once that is open, else through the bus daemon: the same messages, one process
    /// hop less each way. Off when <see cref="UsePeers"/> is false.
    /// </summary>
    private readonly ConcurrentDictionary<string, Peer> _peers = new(StringComparer.Ordinal);
    private volatile bool _disposed;

    public bool UsePeers { get; init; } = true;

    /// <summary>The event-driven cache of text, values and actions (null: off, SANDBOX_A11Y_CACHE=false).</summary>
    public DetailCache? Details { get; init; }

    /// <summary>Longest wait for an application's direct address and connection, ms.</summary>
    public int PeerConnectTimeoutMs { get; init; } = 1000;

    private sealed class Peer
    {
        public volatile DBusConnection? Connection;
        public PeerStream? Stream;
        public DateTime RetryAfter = DateTime.MaxValue; // while connecting, and for good after a refusal
    }

    private readonly ConcurrentDictionary<string, (bool Trusted, DateTime Checked)> _cacheOrder = new(StringComparer.Ordinal);

    /// <summary>How long a verdict on an application's cache order holds before it is checked again.</summary>
    public TimeSpan CacheOrderRecheck { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// True when the cache's children order of application <paramref name="bus"/> matched GetChildren at its
    /// last check, less than <see cref="CacheOrderRecheck"/> ago.
    /// </summary>
    public bool CacheOrderTrusted(string bus) =>
        _cacheOrder.TryGetValue(bus, out var v) && v.Trusted && DateTime.UtcNow - v.Checked < CacheOrderRecheck;

    public void SetCacheOrderTrusted(string bus, bool trusted) => _cacheOrder[bus] = (trusted, DateTime.UtcNow);

    /// <summary>How many applications are reached directly (for tests and health).</summary>
    public int PeerCount => _peers.Values.Count(p => p.Connection is not null);

    private delegate void WriteArgs(ref MessageWriter w);

    private readonly record struct Outgoing(DBusConnection Connection, MessageBuffer Message);

    /// <summary>
    /// The application's direct connection while it is open, else the bus. A stream that already ended (the
    /// application exited) is passed over before the connection's own disconnect handler drops it (DropPeer).
    /// </summary>
    private DBusConnection Route(string bus) =>
        _peers.TryGetValue(bus, out var p) && p.Connection is { } c && p.Stream is not { IsClosed: true } ? c : Connection;

    /// <summary>
    /// Holds the calls to application <paramref name="bus"/> back until disposed, then sends them in one write
    /// (over its direct connection; a no-op through the bus). Use around a loop that issues a wave of calls.
    /// </summary>
    public PeerStream.CorkScope Cork(string bus) =>
        _peers.TryGetValue(bus, out var p) && p.Connection is not null && p.Stream is { } s ? s.Cork() : default;

    private Outgoing Call(ObjRef o, string iface, string member, string? signature = null, WriteArgs? args = null)
    {
        var c = Route(o.Bus);
        var w = c.GetMessageWriter();
        try
        {
            w.WriteMethodCallHeader(destination: o.Bus, path: o.Path, @interface: iface, member: member, signature: signature);
            args?.Invoke(ref w);
            return new Outgoing(c, w.CreateMessage());
        }
        finally { w.Dispose(); }
    }

    private static Task<T> Send<T>(Outgoing call, MessageValueReader<T> reader) => call.Connection.CallMethodAsync(call.Message, reader);

    private static Task Send(Outgoing call) => call.Connection.CallMethodAsync(call.Message);

    /// <summary>
    /// Starts opening a direct connection to the application <paramref name="bus"/> unless one is open,
    /// being opened, or was refused (toolkits without GetApplicationBusAddress answer an error: they stay on
    /// the bus). Never waits: calls go through the bus until the connection is up.
    /// </summary>
    public void EnsurePeer(string bus)
    {
        if (!UsePeers || _disposed || bus == RegistryBus || bus.Length == 0) return;
        if (_peers.TryGetValue(bus, out var existing) && (existing.Connection is not null || DateTime.UtcNow < existing.RetryAfter)) return;
        var peer = new Peer();
        if (existing is null ? !_peers.TryAdd(bus, peer) : !_peers.TryUpdate(bus, peer, existing)) return;
        _ = ConnectPeerAsync(bus, peer);
    }

    private async Task ConnectPeerAsync(string bus, Peer peer)
    {
        DBusConnection? c = null;
        var retry = TimeSpan.FromSeconds(10);
        try
        {
            var ask = Send(Call(new ObjRef(bus, "/org/a11y/atspi/accessible/root"), "org.a11y.atspi.Application", "GetApplicationBusAddress"),
                static (m, _) => m.GetBodyReader().ReadString());
            var deadline = DateTime.UtcNow.AddMilliseconds(PeerConnectTimeoutMs);
            if (!await TreeWalker.Within(ask, deadline).ConfigureAwait(false)) throw new TimeoutException();
            if (ask.Exception?.InnerException is DBusErrorReplyException) retry = TimeSpan.MaxValue; // the toolkit has no direct connections
            var address = ask.Result;
            // Only a local socket the application made: nothing else is dialled on an application's word.
            if (!address.StartsWith("unix:", StringComparison.Ordinal)) { retry = TimeSpan.MaxValue; throw new NotSupportedException(address); }
            var open = PeerStream.ConnectAsync(address, CancellationToken.None);
            if (!await TreeWalker.Within(open, deadline).ConfigureAwait(false))
            {
                _ = open.ContinueWith(static t => { if (t.IsCompletedSuccessfully) t.Result.Dispose(); }, TaskScheduler.Default);
                throw new TimeoutException();
            }
            var stream = await open.ConfigureAwait(false);
            c = new DBusConnection(new PeerStream.Options(stream) { AutoConnect = false });
            peer.Stream = stream;
            var connect = c.ConnectAsync().AsTask();
            if (!await TreeWalker.Within(connect, deadline).ConfigureAwait(false)) throw new TimeoutException();
            await connect.ConfigureAwait(false);
            if (_disposed || !_peers.TryGetValue(bus, out var current) || current != peer) throw new ObjectDisposedException(nameof(AtspiClient));
            peer.Connection = c;
            var opened = c;
            _ = c.DisconnectedAsync().ContinueWith(_ => DropPeer(bus, opened), TaskScheduler.Default);
            c = null;
        }
        catch (Exception)
        {
            c?.Dispose();
            peer.Stream?.Dispose();
            peer.RetryAfter = retry == TimeSpan.MaxValue ? DateTime.MaxValue : DateTime.UtcNow + retry;
        }
    }

    /// <summary>
    /// Closes the direct connection to an application (it went away, or did not answer in time: its pending
    /// calls fail now instead of waiting forever, and later calls go through the bus, whose daemon times
    /// them out). A new one is tried after a while.
    /// </summary>
    public void DropPeer(string bus, DBusConnection? only = null)
    {
        if (!_peers.TryGetValue(bus, out var p)) return;
        var c = p.Connection;
        if (c is null || (only is not null && c != only)) return;
        if (_peers.TryUpdate(bus, new Peer { RetryAfter = DateTime.UtcNow.AddSeconds(10) }, p)) c.Dispose();
    }

    /// <summary>Closes the direct connections of applications no longer on the bus.</summary>
    public void PrunePeers(IReadOnlyCollection<string> live)
    {
        Details?.Prune(live);
        foreach (var bus in _cacheOrder.Keys)
            if (!live.Contains(bus)) _cacheOrder.TryRemove(bus, out _);
        foreach (var (bus, p) in _peers)
            if (!live.Contains(bus) && _peers.TryRemove(new KeyValuePair<string, Peer>(bus, p)))
                p.Connection?.Dispose();
    }

    public void Dispose()
    {
        _disposed = true;
        foreach (var (bus, p) in _peers)
            if (_peers.TryRemove(new KeyValuePair<string, Peer>(bus, p)))
                p.Connection?.Dispose();
        Connection.Dispose();
    }

    public Task<ObjRef[]> GetChildren(ObjRef o) =>
        Send(Call(o, Accessible, "GetChildren"), static (m, _) =>
        {
            var r = m.GetBodyReader();
            return ReadRefArray(ref r);
        });

    public Task<uint> GetRole(ObjRef o) =>
        Send(Call(o, Accessible, "GetRole"), static (m, _) => m.GetBodyReader().ReadUInt32());

    public Task<string> GetRoleName(ObjRef o) =>
        Send(Call(o, Accessible, "GetRoleName"), static (m, _) => m.GetBodyReader().ReadString());

    public Task<ulong> GetState(ObjRef o) =>
        Send(Call(o, Accessible, "GetState"), static (m, _) =>
        {
            var r = m.GetBodyReader();
            return ReadStates(ref r);
        });

    public Task<string[]> GetInterfaces(ObjRef o) =>
        Send(Call(o, Accessible, "GetInterfaces"), static (m, _) =>
        {
            var r = m.GetBodyReader();
            return ReadInterfaces(ref r);
        });

    public Task<List<KeyValuePair<string, string>>> GetAttributes(ObjRef o) =>
        Send(Call(o, Accessible, "GetAttributes"), static (m, _) =>
        {
            var r = m.GetBodyReader();
            var list = new List<KeyValuePair<string, string>>();
            var end = r.ReadDictionaryStart();
            while (r.HasNext(end))
            {
                r.AlignStruct();
                var k = r.ReadString();
                var v = r.ReadString();
                list.Add(new(k, v));
            }
            return list;
        });

    /// <summary>Name, description and child count in one call (Properties.GetAll of the Accessible interface).</summary>
    public Task<(string Name, string Description, int ChildCount)> GetBasics(ObjRef o) =>
        Send(Call(o, Properties, "GetAll", "s", (ref MessageWriter w) => w.WriteString(Accessible)), static (m, _) =>
        {
            var r = m.GetBodyReader();
            string name = "", description = "";
            int count = 0;
            var end = r.ReadDictionaryStart();
            while (r.HasNext(end))
            {
                r.AlignStruct();
                var key = r.ReadString();
                var value = r.ReadVariantValue();
                switch (key)
                {
                    case "Name" when value.Type == VariantValueType.String: name = value.GetString(); break;
                    case "Description" when value.Type == VariantValueType.String: description = value.GetString(); break;
                    case "ChildCount" when value.Type == VariantValueType.Int32: count = value.GetInt32(); break;
                }
            }
            return (name, description, count);
        });

    public Task<CacheItem[]> GetItems(string bus) =>
        Send(Call(new ObjRef(bus, "/org/a11y/atspi/cache"), "org.a11y.atspi.Cache", "GetItems"), static (m, _) =>
        {
            if (m.SignatureAsString != "a((so)(so)(so)iiassusau)")
                throw new NotSupportedException("cache items of signature " + m.SignatureAsString);
            var r = m.GetBodyReader();
            var items = new List<CacheItem>();
            var end = r.ReadArrayStart(DBusType.Struct);
            while (r.HasNext(end))
            {
                r.AlignStruct();
                var self = ReadRef(ref r);
                r.AlignStruct(); // the application: not needed
                r.ReadStringAsSpan();
                r.ReadObjectPathAsSpan();
                var parent = ReadRef(ref r);
                var index = r.ReadInt32();
                var count = r.ReadInt32();
                var interfaces = ReadInterfaces(ref r);
                var name = r.ReadString();
                var role = r.ReadUInt32();
                var description = r.ReadString();
                var states = ReadStates(ref r);
                items.Add(new CacheItem(self, parent, index, count, interfaces, name, role, description, states));
            }
            return items.ToArray();
        });

    /// <summary>Extents in screen coordinates (coord type 0).</summary>
    public Task<(int X, int Y, int W, int H)> GetExtents(ObjRef o) =>
        Send(Call(o, Component, "GetExtents", "u", (ref MessageWriter w) => w.WriteUInt32(0)), static (m, _) =>
        {
            var r = m.GetBodyReader();
            r.AlignStruct();
            return (r.ReadInt32(), r.ReadInt32(), r.ReadInt32(), r.ReadInt32());
        });

    public Task<ObjRef> GetAccessibleAtPoint(ObjRef o, int x, int y) =>
        Send(Call(o, Component, "GetAccessibleAtPoint", "iiu", (ref MessageWriter w) => { w.WriteInt32(x); w.WriteInt32(y); w.WriteUInt32(0); }),
            static (m, _) =>
            {
                var r = m.GetBodyReader();
                return ReadRef(ref r);
            });

    public Task<bool> GrabFocus(ObjRef o) =>
        Send(Call(o, Component, "GrabFocus"), static (m, _) => m.GetBodyReader().ReadBool());

    public Task<string> GetText(ObjRef o) =>
        Send(Call(o, Text, "GetText", "ii", (ref MessageWriter w) => { w.WriteInt32(0); w.WriteInt32(-1); }),
            static (m, _) => m.GetBodyReader().ReadString());

    public Task<bool> SetTextContents(ObjRef o, string text) =>
        Send(Call(o, EditableText, "SetTextContents", "s", (ref MessageWriter w) => w.WriteString(text)),
            static (m, _) => m.GetBodyReader().ReadBool());

    private static readonly string[] ValueProperties = ["CurrentValue", "MinimumValue", "MaximumValue", "MinimumIncrement"];

    /// <summary>
    /// The four Value properties, one Properties.Get each (sent together), as pyatspi reads them: a property
    /// that fails is left out (<see cref="ValueInfo.Missing"/>). Never Properties.GetAll: Chromium's bridge
    /// aborts the whole browser when one of them has no value (libdbus: "end_dict_entry was written").
    /// </summary>
    public async Task<ValueInfo> GetValue(ObjRef o)
    {
        var parts = new Task<double>[ValueProperties.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            var name = ValueProperties[i];
            parts[i] = Send(Call(o, Properties, "Get", "ss", (ref MessageWriter w) => { w.WriteString(Value); w.WriteString(name); }), static (m, _) =>
            {
                var r = m.GetBodyReader();
                var v = r.ReadVariantValue();
                return v.Type == VariantValueType.Double ? v.GetDouble() : throw new InvalidDataException("Value property of type " + v.Type);
            });
        }
        try { await Task.WhenAll(parts).ConfigureAwait(false); }
        catch (Exception) { } // read per property below
        var missing = 0;
        for (var i = 0; i < parts.Length; i++)
            if (!parts[i].IsCompletedSuccessfully) missing |= 1 << i;
        if (missing == (1 << parts.Length) - 1) await parts[0].ConfigureAwait(false); // none: the first error
        double Get(int i) => parts[i].IsCompletedSuccessfully ? parts[i].Result : 0;
        return new ValueInfo(Get(0), Get(1), Get(2), Get(3)) { Missing = missing };
    }

    public Task SetValue(ObjRef o, double value) =>
        Send(Call(o, Properties, "Set", "ssv", (ref MessageWriter w) =>
        {
            w.WriteString(Value);
            w.WriteString("CurrentValue");
            w.WriteVariantDouble(value);
        }));

    public Task<ActionInfo[]> GetActions(ObjRef o) =>
        Send(Call(o, Action, "GetActions"), static (m, _) =>
        {
            var r = m.GetBodyReader();
            var list = new List<ActionInfo>();
            var end = r.ReadArrayStart(DBusType.Struct);
            while (r.HasNext(end))
            {
                r.AlignStruct();
                list.Add(new ActionInfo(r.ReadString(), r.ReadString(), r.ReadString()));
            }
            return list.ToArray();
        });

    /// <summary>
    /// The actions with their non-localized names (GetName, as pyatspi reports them; GetActions gives the
    /// localized ones), descriptions and key bindings. The name calls go out together.
    /// </summary>
    public async Task<ActionInfo[]> GetActionsWithNames(ObjRef o)
    {
        var actions = await GetActions(o).ConfigureAwait(false);
        if (actions.Length == 0) return actions;
        var names = new Task<string>[actions.Length];
        using (Cork(o.Bus))
            for (var i = 0; i < names.Length; i++) names[i] = GetActionName(o, i);
        await Task.WhenAll(names).ConfigureAwait(false);
        for (var i = 0; i < actions.Length; i++) actions[i] = actions[i] with { Name = names[i].Result };
        return actions;
    }

    public Task<string> GetActionName(ObjRef o, int index) =>
        Send(Call(o, Action, "GetName", "i", (ref MessageWriter w) => w.WriteInt32(index)),
            static (m, _) => m.GetBodyReader().ReadString());

    public Task<bool> DoAction(ObjRef o, int index) =>
        Send(Call(o, Action, "DoAction", "i", (ref MessageWriter w) => w.WriteInt32(index)),
            static (m, _) => m.GetBodyReader().ReadBool());

    public Task<int> GetIndexInParent(ObjRef o) =>
        Send(Call(o, Accessible, "GetIndexInParent"), static (m, _) => m.GetBodyReader().ReadInt32());

    public Task<ObjRef> GetParent(ObjRef o) =>
        Send(Call(o, Properties, "Get", "ss", (ref MessageWriter w) => { w.WriteString(Accessible); w.WriteString("Parent"); }),
            static (m, _) =>
            {
                var r = m.GetBodyReader();
                r.ReadSignature("(so)");
                return ReadRef(ref r);
            });

    public Task<bool> SelectChild(ObjRef parent, int index) =>
        Send(Call(parent, Selection, "SelectChild", "i", (ref MessageWriter w) => w.WriteInt32(index)),
            static (m, _) => m.GetBodyReader().ReadBool());

    /// <summary>
    /// One call to the application through the bus daemon (never the direct connection), answered by its D-Bus
    /// library: once the reply is here, every event the application sent before it (events go through the
    /// daemon) has been received. Completes (never throws) on any reply, an error reply included.
    /// </summary>
    public Task Barrier(string bus)
    {
        MessageBuffer msg;
        using (var w = Connection.GetMessageWriter())
        {
            w.WriteMethodCallHeader(destination: bus, path: "/org/a11y/atspi/accessible/root", @interface: "org.freedesktop.DBus.Peer", member: "Ping");
            msg = w.CreateMessage();
        }
        return Connection.CallMethodAsync(msg).ContinueWith(static t =>
        {
            if (t.Exception?.InnerException is not null and not DBusErrorReplyException) throw t.Exception.InnerException;
        }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>
    /// Receives the applications' object events (org.a11y.atspi.Event.Object) on the bus connection and hands them
    /// to <see cref="Details"/>. Disposing the answer ends the subscription (null: no cache, nothing subscribed).
    /// </summary>
    public async Task<IDisposable?> SubscribeEventsAsync()
    {
        if (Details is not { } cache) return null;
        var rule = new MatchRule { Type = MessageType.Signal, Interface = "org.a11y.atspi.Event.Object" };
        // The handler runs on the connection's reader, before the messages that followed the event (the barrier's reply).
        return await Connection.AddMatchAsync(rule, static (m, _) => (m.SenderAsString ?? "", m.PathAsString ?? ""),
            static (Notification<(string Sender, string Path)> n) =>
            {
                if (n.HasValue && n.State is DetailCache c) c.OnEvent(n.Value.Sender, n.Value.Path);
            }, emitOnCapturedContext: false, ObserverFlags.None, cache).ConfigureAwait(false);
    }

    /// <summary>
    /// Registers an event listener with the registry. A GTK (atk-bridge) application creates its cache
    /// (/org/a11y/atspi/cache) only once an assistive client has registered for events.
    /// </summary>
    public Task RegisterEvent(string eventName) =>
        Send(Call(new ObjRef("org.a11y.atspi.Registry", "/org/a11y/atspi/registry"),
            "org.a11y.atspi.Registry", "RegisterEvent", "sass", (ref MessageWriter w) =>
            {
                w.WriteString(eventName);
                w.WriteArray(Array.Empty<string>());
                w.WriteString(""); // every application, not one
            }));

    private static ObjRef ReadRef(ref Reader r)
    {
        r.AlignStruct();
        var bus = BusName(r.ReadStringAsSpan());
        var path = r.ReadObjectPathAsSpan();
        return new ObjRef(bus, path.SequenceEqual(NullPathUtf8) ? ObjRef.NullPath : System.Text.Encoding.UTF8.GetString(path));
    }

    private static ReadOnlySpan<byte> NullPathUtf8 => "/org/a11y/atspi/null"u8;

    /// <summary>The last bus names read on this thread: a walk reads the same few thousands of times (one string each, not one per reference).</summary>
    [ThreadStatic] private static (byte[] Utf8, string Name)[]? t_busNames;

    private static string BusName(ReadOnlySpan<byte> utf8)
    {
        var names = t_busNames ??= new (byte[], string)[4];
        for (var i = 0; i < names.Length; i++)
            if (names[i].Name is { } known && utf8.SequenceEqual(names[i].Utf8)) return known;
        var name = System.Text.Encoding.UTF8.GetString(utf8);
        names.AsSpan(0, names.Length - 1).CopyTo(names.AsSpan(1)); // most recent first
        names[0] = (utf8.ToArray(), name);
        return name;
    }

    /// <summary>The AT-SPI interface names, made once (an element lists several; a walk reads thousands).</summary>
    private static readonly (byte[] Utf8, string Name)[] KnownInterfaces = new[]
    {
        Accessible, Component, Text, EditableText, Value, Action, Selection, Image, "org.a11y.atspi.Hypertext",
        "org.a11y.atspi.Hyperlink", "org.a11y.atspi.Table", "org.a11y.atspi.TableCell", "org.a11y.atspi.Document",
        "org.a11y.atspi.Collection", "org.a11y.atspi.Application", "org.freedesktop.DBus.Introspectable",
    }.Select(n => (System.Text.Encoding.UTF8.GetBytes(n), n)).ToArray();

    private static string[] ReadInterfaces(ref Reader r)
    {
        var list = new List<string>(8);
        var end = r.ReadArrayStart(DBusType.String);
        while (r.HasNext(end))
        {
            var utf8 = r.ReadStringAsSpan();
            string? name = null;
            foreach (var (bytes, known) in KnownInterfaces)
                if (utf8.SequenceEqual(bytes)) { name = known; break; }
            list.Add(name ?? System.Text.Encoding.UTF8.GetString(utf8));
        }
        return list.ToArray();
    }

    private static ObjRef[] ReadRefArray(ref Reader r)
    {
        var list = new List<ObjRef>();
        var end = r.ReadArrayStart(DBusType.Struct);
        while (r.HasNext(end)) list.Add(ReadRef(ref r));
        return list.ToArray();
    }

    private static ulong ReadStates(ref Reader r)
    {
        ulong states = 0;
        var end = r.ReadArrayStart(DBusType.UInt32);
        for (var i = 0; r.HasNext(end); i++)
        {
            var word = r.ReadUInt32();
            if (i < 2) states |= (ulong)word << (32 * i);
        }
        return states;
    }
}
