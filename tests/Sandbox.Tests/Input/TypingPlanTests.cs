using Sandbox.Input;

namespace Sandbox.Tests.Input;

/// <summary>The typing planner, without a keyboard: the layout's answers are given per keysym.</summary>
public sealed class TypingPlanTests
{
    private const nuint Return = 0xff0d, Tab = 0xff09;

    /// <summary>A layout that has exactly the given characters (as unshifted keys on made-up keycodes).</summary>
    private static KeyStroke?[] Layout(List<nuint> keysyms, string has) =>
        keysyms.Select(k => has.Any(c => (nuint)c == k) ? new KeyStroke((byte)(10 + has.IndexOf((char)k)), false, k) : (KeyStroke?)null).ToArray();

    [Fact]
    public void Latin1_characters_are_their_own_keysyms_and_others_are_unicode_keysyms()
    {
        Assert.Equal([(nuint)'a', (nuint)'Z', (nuint)0xe9, (nuint)0x010020ac, (nuint)0x0101f600], TypingPlan.KeysymsOf("aZé€😀"));
    }

    [Fact]
    public void A_crlf_pair_is_one_return_and_lone_cr_and_lf_are_one_each()
    {
        Assert.Equal([(nuint)'a', Return, (nuint)'b', Return, Tab], TypingPlan.KeysymsOf("a\r\nb\r\n\t"));
        Assert.Equal([Return, Return], TypingPlan.KeysymsOf("\r\r"));
        Assert.Equal([Return, Return], TypingPlan.KeysymsOf("\n\n"));
    }

    [Fact]
    public void Control_characters_have_no_keysym()
    {
        Assert.Equal([(nuint)0, (nuint)'x'], TypingPlan.KeysymsOf("\u0001x"));
    }

    [Fact]
    public void Text_the_layout_has_is_one_segment_that_binds_nothing()
    {
        var keysyms = TypingPlan.KeysymsOf("hello");
        var plan = TypingPlan.Create(keysyms, Layout(keysyms, "helo"), spareSlots: 4);
        var segment = Assert.Single(plan.Segments);
        Assert.Equal((0, 5), (segment.Start, segment.End));
        Assert.Empty(segment.Bound);
        Assert.False(plan.LacksSpareKeys);
        Assert.All(plan.InLayout, k => Assert.NotNull(k));
    }

    [Fact]
    public void Characters_the_layout_lacks_are_bound_and_a_repeated_one_needs_no_second_slot()
    {
        var keysyms = TypingPlan.KeysymsOf("aé€é");
        var plan = TypingPlan.Create(keysyms, Layout(keysyms, "a"), spareSlots: 2);
        var segment = Assert.Single(plan.Segments);
        Assert.Equal((0, 4), (segment.Start, segment.End));
        Assert.Equal(new HashSet<nuint> { 0xe9, 0x010020ac }, segment.Bound);
    }

    [Fact]
    public void More_foreign_characters_than_slots_split_into_segments_at_the_first_that_does_not_fit()
    {
        // Slots for two: "αβ" fit, "γ" starts the next segment, which also takes "δ"; "x" is in the layout.
        var keysyms = TypingPlan.KeysymsOf("αxβγxδ");
        var plan = TypingPlan.Create(keysyms, Layout(keysyms, "x"), spareSlots: 2);
        Assert.Equal([(0, 3), (3, 6)], plan.Segments.Select(s => (s.Start, s.End)));
        Assert.Equal(new HashSet<nuint> { 0x010003b1, 0x010003b2 }, plan.Segments[0].Bound);
        Assert.Equal(new HashSet<nuint> { 0x010003b3, 0x010003b4 }, plan.Segments[1].Bound);
        Assert.False(plan.LacksSpareKeys);
    }

    [Fact]
    public void Without_spare_slots_foreign_characters_cannot_be_typed_but_layout_text_can()
    {
        var foreign = TypingPlan.KeysymsOf("aé");
        Assert.True(TypingPlan.Create(foreign, Layout(foreign, "a"), spareSlots: 0).LacksSpareKeys);
        var plain = TypingPlan.KeysymsOf("aa");
        Assert.False(TypingPlan.Create(plain, Layout(plain, "a"), spareSlots: 0).LacksSpareKeys);
    }

    [Fact]
    public void With_the_layout_unused_every_character_is_bound()
    {
        // Another group active: the caller passes no layout keys at all.
        var keysyms = TypingPlan.KeysymsOf("abc");
        var plan = TypingPlan.Create(keysyms, new KeyStroke?[3], spareSlots: 2);
        Assert.Equal([(0, 2), (2, 3)], plan.Segments.Select(s => (s.Start, s.End)));
    }
}
