using System.Collections.Concurrent;

namespace Sandbox.Accessibility;

/// <summary>One element of a walked tree, with what was read of it.</summary>
internal sealed class AccessibleNode(ObjRef self, int depth)
{
    public ObjRef Ref { get; } = self;
    public int Depth { get; } = depth;
    /// <summary>The object path of the element's parent in the walk (same application), for the detail cache.</summary>
    public string? ParentPath { get; init; }
    public int Id { get; set; }
    public uint Role { get; set; }
    public string? RoleNameOverride { get; set; }
    public string RoleName => RoleNameOverride ?? AtspiNames.RoleName(Role);
    public string Name { get; set; } = "";
    public string Description { get; set; } = "";
    public ulong States { get; set; }
    public string[] Interfaces { get; set; } = [];
    public int ChildCount { get; set; }
    public List<KeyValuePair<string, string>>? Attributes { get; set; }
    public (int X, int Y, int W, int H)? Extents { get; set; }
    public string? Text { get; set; }
    public ValueInfo? Value { get; set; }
    public ActionInfo[]? Actions { get; set; }
    public List<AccessibleNode> Children { get; } = [];
    /// <summary>True once name, role, states and interfaces were read (from the cache or live).</summary>
    public bool HasBasics { get; set; }
    /// <summary>Set on an element whose subtree or details are incomplete, with the reason.</summary>
    public string? Truncated { get; set; }

    public bool Has(string iface) => Array.IndexOf(Interfaces, iface) >= 0;
    public bool HasState(int bit) => AtspiNames.Has(States, bit);
    public bool IsShowing => HasState(AtspiNames.Visible) && HasState(AtspiNames.Showing);

    public IEnumerable<string> StateNames()
    {
        for (var bit = 0; bit < AtspiNames.States.Length; bit++)
            if (HasState(bit)) yield return AtspiNames.States[bit];
    }

    public IEnumerable<AccessibleNode> DescendantsAndSelf()
    {
        var stack = new Stack<AccessibleNode>();
        stack.Push(this);
        while (stack.Count > 0)
        {
            var n = stack.Pop();
            yield return n;
            for (var i = n.Children.Count - 1; i >= 0; i--) stack.Push(n.Children[i]);
        }
    }
}

/// <summary>
/// Short, stable element ids: the same AT-SPI object gets the same id for as long as this process
/// remembers it (up to <see cref="AccessibilityOptions.MaxIds"/>; past that the table starts over and
/// old ids answer 404).
/// </summary>
internal sealed class ElementIds(int capacity)
{
    private readonly ConcurrentDictionary<ObjRef, int> _ids = new();
    private readonly ConcurrentDictionary<int, ObjRef> _refs = new();
    private int _next;
    private readonly object _resetLock = new();

    public int IdOf(ObjRef r)
    {
        if (_ids.TryGetValue(r, out var id)) return id;
        if (_ids.Count >= capacity)
            lock (_resetLock)
                if (_ids.Count >= capacity) { _ids.Clear(); _refs.Clear(); }
        return _ids.GetOrAdd(r, key =>
        {
            var n = Interlocked.Increment(ref _next);
            _refs[n] = key;
            return n;
        });
    }

    public bool TryGet(int id, out ObjRef r) => _refs.TryGetValue(id, out r);

    public int Count => _ids.Count;
}
