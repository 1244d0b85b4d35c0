using Sandbox.Recording;

namespace Sandbox.Tests.Recording;

public sealed class ActionBuilderTests
{
    private const uint Return = 0xff0d, Tab = 0xff09, IsoLeftTab = 0xfe20, ControlL = 0xffe3, AltL = 0xffe9, SuperL = 0xffeb, F4 = 0xffc1;

    [Fact]
    public void Printable_keys_with_shift_become_one_typed_sequence()
    {
        var actions = new Events().Type("Hello, World!").Build();
        var typed = Assert.IsType<TypedSequenceAction>(Assert.Single(actions));
        Assert.Equal("Hello, World!", typed.Text);
        Assert.Equal("t0.000", typed.Timestamp);
    }

    [Fact]
    public void A_pause_over_the_typing_pause_starts_a_new_sequence_and_one_at_it_does_not()
    {
        var e = new Events().Type("ab").Wait(1.5 - 0.05).Type("cd").Wait(1.51).Type("ef");
        var actions = e.Build();
        Assert.Equal(["abcd", "ef"], actions.Cast<TypedSequenceAction>().Select(a => a.Text));
    }

    [Fact]
    public void The_typing_pause_is_configurable()
    {
        var actions = new Events().Type("ab").Wait(0.3).Type("cd").Build(new ActionBuilderOptions(TypingPauseSeconds: 0.2));
        Assert.Equal(["ab", "cd"], actions.Cast<TypedSequenceAction>().Select(a => a.Text));
    }

    [Fact]
    public void A_non_printable_key_flushes_the_text_and_is_a_pynput_hotkey()
    {
        var actions = new Events().Type("ls").Tap(36, Return).Type("pwd").Build();
        Assert.Collection(actions,
            a => Assert.Equal("ls", Assert.IsType<TypedSequenceAction>(a).Text),
            a => Assert.Equal("Key.enter", Assert.IsType<HotkeyAction>(a).Key),
            a => Assert.Equal("pwd", Assert.IsType<TypedSequenceAction>(a).Text));
    }

    [Fact]
    public void Ctrl_with_a_letter_is_a_combination_named_for_pyautogui()
    {
        var actions = new Events()
            .Key(true, 37, ControlL)
            .Tap(54, 'c', HeldModifiers.Ctrl)
            .Key(false, 37, ControlL, HeldModifiers.Ctrl)
            .Build();
        Assert.Equal("ctrl+c", Assert.IsType<HotkeyAction>(Assert.Single(actions)).Key);
    }

    [Fact]
    public void Shifted_letters_in_combinations_use_the_unshifted_name()
    {
        var actions = new Events()
            .Key(true, 37, ControlL).Key(true, 50, 0xffe1, HeldModifiers.Ctrl)
            .Tap(28, 'T', HeldModifiers.Ctrl | HeldModifiers.Shift, "t")
            .Key(false, 50, 0xffe1, HeldModifiers.Ctrl | HeldModifiers.Shift).Key(false, 37, ControlL, HeldModifiers.Ctrl)
            .Build();
        Assert.Equal("ctrl+shift+t", Assert.IsType<HotkeyAction>(Assert.Single(actions)).Key);
    }

    [Fact]
    public void Shift_with_a_non_printable_key_and_alt_with_a_function_key_are_combinations()
    {
        var actions = new Events()
            .Tap(23, IsoLeftTab, HeldModifiers.Shift, "tab")
            .Tap(70, F4, HeldModifiers.Alt, "f4")
            .Build();
        Assert.Equal(["shift+tab", "alt+f4"], actions.Cast<HotkeyAction>().Select(a => a.Key));
    }

    [Fact]
    public void A_modifier_pressed_and_released_alone_is_a_hotkey_of_its_own_except_shift()
    {
        var actions = new Events()
            .Tap(37, ControlL).Tap(64, AltL).Tap(133, SuperL).Tap(50, 0xffe1).Tap(62, 0xffe2)
            .Build();
        Assert.Equal(["Key.ctrl_l", "Key.alt_l", "Key.cmd_l"], actions.Cast<HotkeyAction>().Select(a => a.Key));
    }

    [Fact]
    public void Auto_repeat_of_a_held_modifier_still_makes_one_hotkey()
    {
        var actions = new Events()
            .Key(true, 37, ControlL).Wait(0.5).Key(true, 37, ControlL, HeldModifiers.Ctrl).Key(true, 37, ControlL, HeldModifiers.Ctrl)
            .Key(false, 37, ControlL, HeldModifiers.Ctrl)
            .Build();
        Assert.Equal("Key.ctrl_l", Assert.IsType<HotkeyAction>(Assert.Single(actions)).Key);
    }

    [Fact]
    public void Clicks_with_each_button_are_press_release_pairs_with_pynput_names()
    {
        var actions = new Events().Click(1, 10, 20).Click(2, 30, 40).Click(3, 50, 60).Click(8, 1, 2).Build();
        var clicks = actions.Cast<ClickAction>().ToList();
        Assert.Equal(8, clicks.Count);
        Assert.Equal(new ClickAction(10, 20, "Button.left", true, "t0.000"), clicks[0] with { Time = 0 });
        Assert.Equal(new ClickAction(10, 20, "Button.left", false, "t0.020"), clicks[1] with { Time = 0 });
        Assert.Equal(["Button.left", "Button.left", "Button.middle", "Button.middle", "Button.right", "Button.right", "Button.button8", "Button.button8"],
            clicks.Select(c => c.Button));
        Assert.All(clicks, c => Assert.Null(c.Modifiers));
    }

    [Fact]
    public void A_click_ends_the_typed_text_before_it_and_keeps_the_order()
    {
        var actions = new Events().Type("abc").Click(1, 5, 5).Type("d").Build();
        Assert.Equal(["typed_sequence", "click", "click", "typed_sequence"], actions.Select(Kind));
    }

    [Fact]
    public void Ctrl_click_carries_the_modifier_and_is_not_a_lone_ctrl_hotkey()
    {
        var actions = new Events()
            .Key(true, 37, ControlL).Click(1, 7, 8, HeldModifiers.Ctrl).Key(false, 37, ControlL, HeldModifiers.Ctrl)
            .Build();
        Assert.Equal(2, actions.Count);
        Assert.All(actions.Cast<ClickAction>(), c => Assert.Equal("ctrl", c.Modifiers));
    }

    [Fact]
    public void Wheel_buttons_become_scrolls_merged_per_direction_and_place()
    {
        var actions = new Events()
            .Click(4, 100, 100).Click(4, 100, 100).Click(4, 100, 100)
            .Click(5, 100, 100)
            .Click(6, 100, 100).Click(7, 100, 100).Click(7, 100, 100)
            .Move(200, 200).Click(5, 200, 200)
            .Build();
        var scrolls = actions.Cast<ScrollAction>().Select(s => (s.X, s.Y, s.Dx, s.Dy)).ToList();
        Assert.Equal([(100, 100, 0, 3), (100, 100, 0, -1), (100, 100, -1, 0), (100, 100, 2, 0), (200, 200, 0, -1)], scrolls);
    }

    [Fact]
    public void Scroll_notches_after_a_pause_are_a_new_scroll()
    {
        var actions = new Events().Click(5, 1, 1).Wait(2).Click(5, 1, 1).Build();
        Assert.Equal(2, actions.Count);
    }

    [Fact]
    public void A_press_that_moves_past_the_threshold_adds_a_drag_after_the_click_pair()
    {
        var actions = new Events()
            .Button(true, 1, 300, 300).Move(350, 320).Move(400, 350).Wait(0.2).Button(false, 1, 500, 400)
            .Build();
        Assert.Equal(["click", "click", "drag"], actions.Select(Kind));
        var drag = Assert.IsType<DragAction>(actions[2]);
        Assert.Equal(("Button.left", 300, 300, 500, 400), (drag.Button, drag.X, drag.Y, drag.EndX, drag.EndY));
        Assert.Equal(0.22, drag.Duration, 6);
        Assert.Equal(actions[0].Timestamp, drag.Timestamp);
    }

    [Fact]
    public void A_drag_that_returns_to_its_start_is_still_a_drag_and_a_jitter_is_not()
    {
        var circle = new Events().Button(true, 1, 10, 10).Move(60, 10).Move(10, 10).Button(false, 1, 10, 10).Build();
        Assert.Contains(circle, a => a is DragAction);
        var jitter = new Events().Button(true, 1, 10, 10).Move(12, 11).Button(false, 1, 13, 12).Build();
        Assert.DoesNotContain(jitter, a => a is DragAction);
    }

    [Fact]
    public void Non_latin_text_types_like_any_other()
    {
        var actions = new Events().Tap(30, 0xe9).Tap(31, 0x1002713).Tap(32, 0x6c1).Tap(33, 0x20ac).Build();
        Assert.Equal("é✓а€", Assert.IsType<TypedSequenceAction>(Assert.Single(actions)).Text);
    }

    [Fact]
    public void Count_includes_the_sequence_still_being_typed()
    {
        var b = new ActionBuilder();
        foreach (var e in new Events().Click(1, 1, 1).Type("ab").List) b.Add(e);
        Assert.Equal(3, b.Count);
        Assert.Equal(3, b.Finish().Count);
    }

    private static string Kind(ActionRecord a) => a switch
    {
        ClickAction => "click",
        TypedSequenceAction => "typed_sequence",
        HotkeyAction => "hotkey",
        ScrollAction => "scroll",
        DragAction => "drag",
        _ => "?",
    };
}
