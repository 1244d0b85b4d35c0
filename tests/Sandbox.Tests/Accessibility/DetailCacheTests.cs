using Sandbox.Accessibility;
using Xunit;

namespace Sandbox.Tests.Accessibility;

public class DetailCacheTests
{
    private const string Bus = ":1.7";

    private static AccessibleNode Node(string path, string? parent = null, string name = "n", ulong states = 3) =>
        new(new ObjRef(Bus, path), 1)
        {
            ParentPath = parent, Name = name, Role = 29, States = states, Interfaces = [AtspiClient.Accessible, AtspiClient.Text], HasBasics = true,
        };

    private static void Read(DetailCache cache, long mark, params AccessibleNode[] nodes)
    {
        foreach (var n in nodes) n.Text = "text of " + n.Ref.Path;
        cache.Store(cache.For(Bus), mark, nodes.Select(n => new DetailCache.Read(n) { Text = true }).ToList());
    }

    [Fact]
    public void StoredTextIsGivenBackWhileNothingChanged()
    {
        var cache = new DetailCache();
        Read(cache, cache.Mark(Bus), Node("/a"));
        var hit = cache.Lookup(cache.For(Bus), Node("/a"));
        Assert.NotNull(hit);
        Assert.True(hit.Value.HasText);
        Assert.Equal("text of /a", hit.Value.Text);
        Assert.False(hit.Value.HasActions);
    }

    [Fact]
    public void DifferentBasicsMissTheEntry()
    {
        var cache = new DetailCache();
        Read(cache, cache.Mark(Bus), Node("/a"));
        Assert.Null(cache.Lookup(cache.For(Bus), Node("/a", name: "renamed")));
        Assert.Null(cache.Lookup(cache.For(Bus), Node("/a", states: 7)));
        var other = Node("/a");
        other.Interfaces = [AtspiClient.Accessible];
        Assert.Null(cache.Lookup(cache.For(Bus), other));
    }

    [Fact]
    public void AnEventDropsTheElementAndItsAncestors()
    {
        var cache = new DetailCache();
        Read(cache, cache.Mark(Bus), Node("/root"), Node("/panel", "/root"), Node("/link", "/panel"), Node("/other", "/root"));
        cache.OnEvent(Bus, "/link");
        var app = cache.For(Bus);
        Assert.Null(cache.Lookup(app, Node("/link", "/panel")));
        Assert.Null(cache.Lookup(app, Node("/panel", "/root")));
        Assert.Null(cache.Lookup(app, Node("/root")));
        Assert.NotNull(cache.Lookup(app, Node("/other", "/root")));
        cache.OnEvent(":1.99", "/other"); // another application
        Assert.NotNull(cache.Lookup(app, Node("/other", "/root")));
    }

    [Fact]
    public void WhatWasReadWhileAnEventArrivedIsNotKept()
    {
        var cache = new DetailCache();
        var mark = cache.Mark(Bus); // calls sent now...
        cache.OnEvent(Bus, "/b"); // ...an event for an element not cached yet arrives before the replies are stored
        Read(cache, mark, Node("/a"), Node("/b"));
        var app = cache.For(Bus);
        Assert.NotNull(cache.Lookup(app, Node("/a")));
        Assert.Null(cache.Lookup(app, Node("/b")));
        Read(cache, cache.Mark(Bus), Node("/b")); // read again after the event: kept
        Assert.NotNull(cache.Lookup(app, Node("/b")));
    }

    [Fact]
    public void TooManyEventsDuringAReadKeepNothing()
    {
        var cache = new DetailCache();
        var mark = cache.Mark(Bus);
        for (var i = 0; i < 5000; i++) cache.OnEvent(Bus, "/x" + i);
        Read(cache, mark, Node("/a"));
        Assert.Null(cache.Lookup(cache.For(Bus), Node("/a")));
    }

    [Fact]
    public void SweepForgetsElementsTheWalkDidNotMeet()
    {
        var cache = new DetailCache();
        var app = cache.For(Bus);
        var walk = cache.BeginWalk(app);
        Read(cache, cache.Mark(Bus), Node("/a"), Node("/b"));
        cache.Sweep(app, walk);
        Assert.Equal(2, cache.Count);
        walk = cache.BeginWalk(app);
        Assert.NotNull(cache.Lookup(app, Node("/a")));
        cache.Sweep(app, walk);
        Assert.Equal(1, cache.Count);
        Assert.Null(cache.Lookup(app, Node("/b")));
        cache.Prune([]);
        Assert.Equal(0, cache.Count);
    }
}
