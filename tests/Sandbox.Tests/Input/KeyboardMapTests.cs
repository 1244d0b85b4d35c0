using Microsoft.Extensions.Logging.Abstractions;
using Sandbox.Display;
using Sandbox.Input;
using Sandbox.Testing;

namespace Sandbox.Tests.Input;

/// <summary>The keyboard map against a real Xvfb; the server's mapping is read back with xmodmap.</summary>
public sealed class KeyboardMapTests : IDisposable
{
    private readonly XvfbServer _x = XvfbServer.Start(640, 480);
    private readonly XDisplayConnection _connection;

    public KeyboardMapTests() => _connection = new XDisplayConnection(_x.Display, "test", NullLogger.Instance);

    public void Dispose()
    {
        _connection.Dispose();
        _x.Dispose();
    }

    private T Run<T>(Func<nint, KeyboardMap, T> use) =>
        _connection.Run(s => use(s.Handle, s.GetOrAttach("map", _ => new MapHolder()).Map), 5000);

    private sealed class MapHolder : IDisposable
    {
        public KeyboardMap Map { get; } = new();
        public void Dispose() { }
    }

    private string Xmodmap() => Sandbox.Testing.Processes.Check("xmodmap", ["-pke"], new Dictionary<string, string?>(_x.Env));

    private static nuint Sym(string name) => KeyNames.TryResolve(name)!.Value.Keysym;

    [Fact]
    public void The_layout_types_letters_alone_and_capitals_with_shift()
    {
        var (a, capitalA, spares) = Run((d, map) =>
        {
            map.Load(d);
            return (map.InLayout(Sym("a")), map.InLayout(Sym("A")), map.SpareCount);
        });
        Assert.Equal(2 * spares, Run((_, map) => map.SlotCount));
        Assert.NotNull(a);
        Assert.False(a.Value.Shift);
        Assert.Equal(a.Value.Keycode, capitalA!.Value.Keycode);
        Assert.True(capitalA.Value.Shift);
        Assert.True(spares > 0);
    }

    [Fact]
    public void Bindings_are_written_to_spare_keycodes_and_restored_to_nothing()
    {
        var before = Xmodmap();
        var world = Sym("世");
        var bound = Run((d, map) =>
        {
            map.Load(d);
            Assert.Null(map.InLayout(world));
            var (wait, changes) = map.PlanBindings(new HashSet<nuint> { world, Sym("ü") }, TimeSpan.FromSeconds(1));
            Assert.Equal(TimeSpan.Zero, wait);
            map.Apply(d, changes);
            Native.Xlib.XSync(d, 0);
            return map.Bound(world)!.Value.Keycode;
        });
        Assert.Matches($@"keycode\s+{bound} = U4E16", Xmodmap());

        // Reading the mapping back keeps our bindings (XKB repeats the keysym in more columns).
        Assert.Equal(bound, Run((d, map) => { map.Load(d); return map.Bound(world)!.Value.Keycode; }));

        // Both characters share one keycode: 世 alone, ü with Shift.
        Assert.Matches($@"keycode\s+{bound} = U4E16 udiaeresis", Xmodmap());
        Assert.Equal(1, Run((d, map) => { var n = map.RestoreAll(d); Native.Xlib.XSync(d, 0); return n; }));
        Assert.Equal(before, Xmodmap());
    }

    [Fact]
    public void A_recently_used_binding_is_reused_only_after_the_settle_time()
    {
        var (first, wait, reused) = Run((d, map) =>
        {
            map.Load(d);
            // Fill every spare with a distinct character, use them all, then ask for one more.
            var many = Enumerable.Range(0, map.SlotCount).Select(i => (nuint)(0x01004e00 + i)).ToHashSet();
            var (_, changes) = map.PlanBindings(many, TimeSpan.Zero);
            map.Apply(d, changes);
            foreach (var k in many) map.Used(k);
            var oldest = map.Bound(0x01004e00)!.Value;
            var (w, more) = map.PlanBindings(new HashSet<nuint> { 0x01005000 }, TimeSpan.FromSeconds(10));
            return (oldest, w, new KeyStroke(more.Single().Code, more.Single().Shift, 0x01004e00));
        });
        Assert.Equal(first, reused);                          // least recently used goes first
        Assert.InRange(wait, TimeSpan.FromSeconds(9), TimeSpan.FromSeconds(10));
    }

    [Fact]
    public void More_characters_at_once_than_spare_keycodes_is_refused()
    {
        Run((d, map) =>
        {
            map.Load(d);
            var tooMany = Enumerable.Range(0, map.SlotCount + 1).Select(i => (nuint)(0x01004e00 + i)).ToHashSet();
            Assert.Throws<KeymapFullException>(() => map.PlanBindings(tooMany, TimeSpan.Zero));
            return 0;
        });
    }

    [Fact]
    public void A_binding_replaced_by_someone_else_is_forgotten_and_never_restored()
    {
        var world = Sym("世");
        var code = Run((d, map) =>
        {
            map.Load(d);
            var (_, changes) = map.PlanBindings(new HashSet<nuint> { world }, TimeSpan.Zero);
            map.Apply(d, changes);
            Native.Xlib.XSync(d, 0);
            return map.Bound(world)!.Value.Keycode;
        });
        Sandbox.Testing.Processes.Check("xmodmap", ["-e", $"keycode {code} = F13"], new Dictionary<string, string?>(_x.Env));
        var (stillBound, restored) = Run((d, map) =>
        {
            map.Load(d);
            return (map.Bound(world), map.RestoreAll(d));
        });
        Assert.Null(stillBound);
        Assert.Equal(0, restored);
        Assert.Matches($@"keycode\s+{code} = F13", Xmodmap());
    }
}
