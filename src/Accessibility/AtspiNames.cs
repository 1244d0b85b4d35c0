namespace Sandbox.Accessibility;

/// <summary>AT-SPI role and state names as libatspi (and so pyatspi) spell them.</summary>
internal static class AtspiNames
{
    /// <summary>Role names by AtspiRole number (atspi_role_get_name).</summary>
    public static readonly string[] Roles =
    [
        "invalid", "accelerator label", "alert", "animation", "arrow", "calendar",
        "canvas", "check box", "check menu item", "color chooser", "column header", "combo box",
        "date editor", "desktop icon", "desktop frame", "dial", "dialog", "directory pane",
        "drawing area", "file chooser", "filler", "focus traversable", "font chooser", "frame",
        "glass pane", "html container", "icon", "image", "internal frame", "label",
        "layered pane", "list", "list item", "menu", "menu bar", "menu item",
        "option pane", "page tab", "page tab list", "panel", "password text", "popup menu",
        "progress bar", "push button", "radio button", "radio menu item", "root pane", "row header",
        "scroll bar", "scroll pane", "separator", "slider", "spin button", "split pane",
        "status bar", "table", "table cell", "table column header", "table row header", "tearoff menu item",
        "terminal", "text", "toggle button", "tool bar", "tool tip", "tree",
        "tree table", "unknown", "viewport", "window", "extended", "header",
        "footer", "paragraph", "ruler", "application", "autocomplete", "editbar",
        "embedded", "entry", "chart", "caption", "document frame", "heading",
        "page", "section", "redundant object", "form", "link", "input method window",
        "table row", "tree item", "document spreadsheet", "document presentation", "document text", "document web",
        "document email", "comment", "list box", "grouping", "image map", "notification",
        "info bar", "level bar", "title bar", "block quote", "audio", "video",
        "definition", "article", "landmark", "log", "marquee", "math",
        "rating", "timer", "static", "math fraction", "math root", "subscript",
        "superscript", "description list", "description term", "description value", "footnote", "content deletion",
        "content insertion", "mark", "suggestion", "push button menu", "last defined",
    ];

    /// <summary>State names by AtspiStateType bit, lower case without STATE_ (pyatspi StateType names).</summary>
    public static readonly string[] States =
    [
        "invalid", "active", "armed", "busy", "checked", "collapsed",
        "defunct", "editable", "enabled", "expandable", "expanded", "focusable",
        "focused", "has_tooltip", "horizontal", "iconified", "modal", "multi_line",
        "multiselectable", "opaque", "pressed", "resizable", "selectable", "selected",
        "sensitive", "showing", "single_line", "stale", "transient", "vertical",
        "visible", "manages_descendants", "indeterminate", "required", "truncated", "animated",
        "invalid_entry", "supports_autocompletion", "selectable_text", "is_default", "visited", "checkable",
        "has_popup", "read_only",
    ];

    public const int Active = 1, Showing = 25, Visible = 30, ManagesDescendants = 31, Defunct = 6, Focusable = 11, Focused = 12, Enabled = 8, Sensitive = 24;

    public static string RoleName(uint role) => role < Roles.Length ? Roles[role] : "unknown";

    public static bool Has(ulong states, int bit) => (states & (1UL << bit)) != 0;

    public static int StateBit(string name) => Array.IndexOf(States, name);
}
