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

internal sealed record ValueInfo(double Current, double Minimum, double Maximum, double Step);

/// <summary>
/// Typed AT-SPI calls over one D-Bus connection. Every call returns a task without waiting for the
/// reply, so callers pipeline: they issue the calls for many objects and then await them together.
/// </summary>
internal sealed class AtspiClient(DBusConnection connection)
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

    public DBusConnection Connection { get; } = connection;

    private delegate void WriteArgs(ref MessageWriter w);

    private MessageBuffer Call(ObjRef o, string iface, string member, string? signature = null, WriteArgs? args = null)
    {
        var w = Connection.GetMessageWriter();
        try
        {
            w.WriteMethodCallHeader(destination: o.Bus, path: o.Path, @interface: iface, member: member, signature: signature);
            args?.Invoke(ref w);
            return w.CreateMessage();
        }
        finally { w.Dispose(); }
    }

    public Task<ObjRef[]> GetChildren(ObjRef o) =>
        Connection.CallMethodAsync(Call(o, Accessible, "GetChildren"), static (m, _) =>
        {
            var r = m.GetBodyReader();
            return ReadRefArray(ref r);
        });

    public Task<uint> GetRole(ObjRef o) =>
        Connection.CallMethodAsync(Call(o, Accessible, "GetRole"), static (m, _) => m.GetBodyReader().ReadUInt32());

    public Task<string> GetRoleName(ObjRef o) =>
        Connection.CallMethodAsync(Call(o, Accessible, "GetRoleName"), static (m, _) => m.GetBodyReader().ReadString());

    public Task<ulong> GetState(ObjRef o) =>
        Connection.CallMethodAsync(Call(o, Accessible, "GetState"), static (m, _) =>
        {
            var r = m.GetBodyReader();
            return ReadStates(ref r);
        });

    public Task<string[]> GetInterfaces(ObjRef o) =>
        Connection.CallMethodAsync(Call(o, Accessible, "GetInterfaces"), static (m, _) => m.GetBodyReader().ReadArrayOfString());

    public Task<List<KeyValuePair<string, string>>> GetAttributes(ObjRef o) =>
        Connection.CallMethodAsync(Call(o, Accessible, "GetAttributes"), static (m, _) =>
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
        Connection.CallMethodAsync(Call(o, Properties, "GetAll", "s", (ref MessageWriter w) => w.WriteString(Accessible)), static (m, _) =>
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
        Connection.CallMethodAsync(Call(new ObjRef(bus, "/org/a11y/atspi/cache"), "org.a11y.atspi.Cache", "GetItems"), static (m, _) =>
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
                ReadRef(ref r); // application
                var parent = ReadRef(ref r);
                var index = r.ReadInt32();
                var count = r.ReadInt32();
                var interfaces = r.ReadArrayOfString();
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
        Connection.CallMethodAsync(Call(o, Component, "GetExtents", "u", (ref MessageWriter w) => w.WriteUInt32(0)), static (m, _) =>
        {
            var r = m.GetBodyReader();
            r.AlignStruct();
            return (r.ReadInt32(), r.ReadInt32(), r.ReadInt32(), r.ReadInt32());
        });

    public Task<ObjRef> GetAccessibleAtPoint(ObjRef o, int x, int y) =>
        Connection.CallMethodAsync(Call(o, Component, "GetAccessibleAtPoint", "iiu", (ref MessageWriter w) => { w.WriteInt32(x); w.WriteInt32(y); w.WriteUInt32(0); }),
            static (m, _) =>
            {
                var r = m.GetBodyReader();
                return ReadRef(ref r);
            });

    public Task<bool> GrabFocus(ObjRef o) =>
        Connection.CallMethodAsync(Call(o, Component, "GrabFocus"), static (m, _) => m.GetBodyReader().ReadBool());

    public Task<string> GetText(ObjRef o) =>
        Connection.CallMethodAsync(Call(o, Text, "GetText", "ii", (ref MessageWriter w) => { w.WriteInt32(0); w.WriteInt32(-1); }),
            static (m, _) => m.GetBodyReader().ReadString());

    public Task<bool> SetTextContents(ObjRef o, string text) =>
        Connection.CallMethodAsync(Call(o, EditableText, "SetTextContents", "s", (ref MessageWriter w) => w.WriteString(text)),
            static (m, _) => m.GetBodyReader().ReadBool());

    public Task<ValueInfo> GetValue(ObjRef o) =>
        Connection.CallMethodAsync(Call(o, Properties, "GetAll", "s", (ref MessageWriter w) => w.WriteString(Value)), static (m, _) =>
        {
            var r = m.GetBodyReader();
            double cur = 0, min = 0, max = 0, step = 0;
            var end = r.ReadDictionaryStart();
            while (r.HasNext(end))
            {
                r.AlignStruct();
                var key = r.ReadString();
                var v = r.ReadVariantValue();
                if (v.Type != VariantValueType.Double) continue;
                switch (key)
                {
                    case "CurrentValue": cur = v.GetDouble(); break;
                    case "MinimumValue": min = v.GetDouble(); break;
                    case "MaximumValue": max = v.GetDouble(); break;
                    case "MinimumIncrement": step = v.GetDouble(); break;
                }
            }
            return new ValueInfo(cur, min, max, step);
        });

    public Task SetValue(ObjRef o, double value) =>
        Connection.CallMethodAsync(Call(o, Properties, "Set", "ssv", (ref MessageWriter w) =>
        {
            w.WriteString(Value);
            w.WriteString("CurrentValue");
            w.WriteVariantDouble(value);
        }));

    public Task<ActionInfo[]> GetActions(ObjRef o) =>
        Connection.CallMethodAsync(Call(o, Action, "GetActions"), static (m, _) =>
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
        var names = await Task.WhenAll(Enumerable.Range(0, actions.Length).Select(i => GetActionName(o, i))).ConfigureAwait(false);
        for (var i = 0; i < actions.Length; i++) actions[i] = actions[i] with { Name = names[i] };
        return actions;
    }

    public Task<string> GetActionName(ObjRef o, int index) =>
        Connection.CallMethodAsync(Call(o, Action, "GetName", "i", (ref MessageWriter w) => w.WriteInt32(index)),
            static (m, _) => m.GetBodyReader().ReadString());

    public Task<bool> DoAction(ObjRef o, int index) =>
        Connection.CallMethodAsync(Call(o, Action, "DoAction", "i", (ref MessageWriter w) => w.WriteInt32(index)),
            static (m, _) => m.GetBodyReader().ReadBool());

    public Task<int> GetIndexInParent(ObjRef o) =>
        Connection.CallMethodAsync(Call(o, Accessible, "GetIndexInParent"), static (m, _) => m.GetBodyReader().ReadInt32());

    public Task<ObjRef> GetParent(ObjRef o) =>
        Connection.CallMethodAsync(Call(o, Properties, "Get", "ss", (ref MessageWriter w) => { w.WriteString(Accessible); w.WriteString("Parent"); }),
            static (m, _) =>
            {
                var r = m.GetBodyReader();
                r.ReadSignature("(so)");
                return ReadRef(ref r);
            });

    public Task<bool> SelectChild(ObjRef parent, int index) =>
        Connection.CallMethodAsync(Call(parent, Selection, "SelectChild", "i", (ref MessageWriter w) => w.WriteInt32(index)),
            static (m, _) => m.GetBodyReader().ReadBool());

    /// <summary>
    /// Registers an event listener with the registry. A GTK (atk-bridge) application creates its cache
    /// (/org/a11y/atspi/cache) only once an assistive client has registered for events.
    /// </summary>
    public Task RegisterEvent(string eventName) =>
        Connection.CallMethodAsync(Call(new ObjRef("org.a11y.atspi.Registry", "/org/a11y/atspi/registry"),
            "org.a11y.atspi.Registry", "RegisterEvent", "sass", (ref MessageWriter w) =>
            {
                w.WriteString(eventName);
                w.WriteArray(Array.Empty<string>());
                w.WriteString(""); // every application, not one
            }));

    private static ObjRef ReadRef(ref Reader r)
    {
        r.AlignStruct();
        var bus = r.ReadString();
        var path = r.ReadObjectPathAsString();
        return new ObjRef(bus, path);
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
        var words = r.ReadArrayOfUInt32();
        if (words.Length > 0) states |= words[0];
        if (words.Length > 1) states |= (ulong)words[1] << 32;
        return states;
    }
}
