namespace Sandbox.Display;

/// <summary>What a modifier keysym does (X11/keysymdef.h); <see cref="None"/> for every other keysym.</summary>
internal enum ModifierRole { None, Shift, Ctrl, Alt, Win, AltGr, Lock }

/// <summary>
/// The modifier keysyms, for both input (a chord's modifiers are pressed from the layout, never bound to
/// spare keys) and recording (held modifiers name a hotkey). One table, so the two cannot drift.
/// </summary>
internal static class KeysymModifiers
{
    public static ModifierRole Role(ulong keysym) => keysym switch
    {
        0xffe1 or 0xffe2 => ModifierRole.Shift,                          // Shift_L, Shift_R
        0xffe3 or 0xffe4 => ModifierRole.Ctrl,                           // Control_L, Control_R
        0xffe7 or 0xffe8 or 0xffe9 or 0xffea => ModifierRole.Alt,        // Meta_L/R, Alt_L/R
        0xffeb or 0xffec or 0xffed or 0xffee => ModifierRole.Win,        // Super_L/R, Hyper_L/R
        0xfe03 or 0xff7e or 0xfe11 => ModifierRole.AltGr,                // ISO_Level3_Shift, Mode_switch, ISO_Level5_Shift
        0xffe5 or 0xffe6 or 0xff7f => ModifierRole.Lock,                 // Caps_Lock, Shift_Lock, Num_Lock
        _ => ModifierRole.None,
    };

    /// <summary>Shift, Control, Alt, Meta, Super, Hyper, Caps/Num/Shift Lock, AltGr and Mode_switch.</summary>
    public static bool IsModifier(ulong keysym) => Role(keysym) != ModifierRole.None;
}
