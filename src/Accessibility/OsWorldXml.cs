using System.Globalization;
using System.Text;
using System.Xml;

namespace Sandbox.Accessibility;

/// <summary>
/// The accessibility tree as OSWorld's server answers it (GET /accessibility → {"AT": xml}): the desktop
/// as <c>desktop-frame</c>, each element named by its role name with spaces as '-', <c>name</c>, one
/// <c>st:</c> attribute per state, <c>attr:</c> per object attribute, <c>cp:screencoord</c>/<c>cp:size</c>
/// for visible and showing elements, text as element text without U+FFFC/U+FFFD, <c>image</c>,
/// <c>selection</c>, <c>val:</c> value/min/max/step and <c>act:</c> description and key binding per action,
/// serialized as lxml does (namespaces declared once on the root).
/// </summary>
internal static class OsWorldXml
{
    public static readonly (string Prefix, string Uri)[] Namespaces =
    [
        ("st", "https://accessibility.ubuntu.example.org/ns/state"),
        ("attr", "https://accessibility.ubuntu.example.org/ns/attributes"),
        ("cp", "https://accessibility.ubuntu.example.org/ns/component"),
        ("doc", "https://accessibility.ubuntu.example.org/ns/document"),
        ("docattr", "https://accessibility.ubuntu.example.org/ns/document/attributes"),
        ("txt", "https://accessibility.ubuntu.example.org/ns/text"),
        ("val", "https://accessibility.ubuntu.example.org/ns/value"),
        ("act", "https://accessibility.ubuntu.example.org/ns/action"),
    ];

    /// <param name="withIds">Adds our <c>id</c> (and <c>truncated</c>) attributes: the tree endpoint's xml format.</param>
    public static string Write(IReadOnlyList<AccessibleNode> apps, bool withIds = false, string? truncated = null) =>
        Build(apps, withIds, truncated).ToString();

    /// <summary>
    /// The same XML in a builder of small chunks, for answers written to the response chunk by chunk: no
    /// large string (which the GC keeps on its large-object heap until a full collection) per request.
    /// </summary>
    internal static StringBuilder Build(IReadOnlyList<AccessibleNode> apps, bool withIds = false, string? truncated = null)
    {
        var sb = new StringBuilder(4096);
        sb.Append("<desktop-frame");
        foreach (var (prefix, uri) in Namespaces) sb.Append(" xmlns:").Append(prefix).Append("=\"").Append(uri).Append('"');
        if (withIds && truncated is not null) Attr(sb, "truncated", truncated);
        if (apps.Count == 0) return sb.Append("/>");
        sb.Append('>');
        foreach (var app in apps) Element(sb, app, withIds);
        return sb.Append("</desktop-frame>");
    }

    /// <summary>The state attributes (" st:name=\"true\"") by state bit, made once.</summary>
    private static readonly string[] StateAttributes = AtspiNames.States.Select(s => " st:" + s + "=\"true\"").ToArray();

    /// <summary>Element names by role name (as written: spaces as '-', "unknown" when not an XML name), made once each.</summary>
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> Tags = new(StringComparer.Ordinal);

    /// <summary>Whether an attribute key is an XML name, remembered (applications use few distinct keys).</summary>
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, bool> Names = new(StringComparer.Ordinal);

    private static string TagOf(string roleName)
    {
        if (Tags.TryGetValue(roleName, out var tag)) return tag;
        var raw = roleName.Trim();
        tag = (raw.Length == 0 ? "unknown" : raw).Replace(' ', '-');
        if (!IsName(tag)) tag = "unknown";
        if (Tags.Count < 4096) Tags[roleName] = tag;
        return tag;
    }

    private static bool IsKnownName(string key)
    {
        if (Names.TryGetValue(key, out var ok)) return ok;
        ok = IsName(key);
        if (Names.Count < 4096) Names[key] = ok;
        return ok;
    }

    private static void Element(StringBuilder sb, AccessibleNode n, bool withIds)
    {
        var tag = TagOf(n.RoleName);
        sb.Append('<').Append(tag);
        Attr(sb, "name", n.Name);
        if (withIds)
        {
            sb.Append(" id=\"").Append(n.Id).Append('"');
            if (n.Truncated is not null) Attr(sb, "truncated", n.Truncated);
        }
        for (var bit = 0; bit < StateAttributes.Length; bit++)
            if (n.HasState(bit)) sb.Append(StateAttributes[bit]);
        if (n.Attributes is { Count: > 0 } attributes)
        {
            // A later duplicate key replaces the earlier one, as in the dict OSWorld builds.
            for (var i = 0; i < attributes.Count; i++)
            {
                var (k, v) = attributes[i];
                if (k.Length == 0 || !IsKnownName(k) || FirstIndex(attributes, k) != i) continue;
                sb.Append(" attr:").Append(k).Append("=\"");
                Escape(sb, LastValue(attributes, k) ?? v, attribute: true);
                sb.Append('"');
            }
        }
        if (n.IsShowing && n.Extents is { } e)
        {
            // Append(int) formats with the current culture: invariant here (InvariantGlobalization, Sandbox.csproj).
            sb.Append(" cp:screencoord=\"(").Append(e.X).Append(", ").Append(e.Y).Append(")\"");
            sb.Append(" cp:size=\"(").Append(e.W).Append(", ").Append(e.H).Append(")\"");
        }
        if (n.Has(AtspiClient.Image)) Attr(sb, "image", "true");
        if (n.Has(AtspiClient.Selection)) Attr(sb, "selection", "true");
        if (n.Value is { } value)
        {
            // Only what the application gave, as pyatspi (each property read on its own, a failure skipped).
            if (value.Has(1)) Attr(sb, "val:value", PythonFloat(value.Current));
            if (value.Has(2)) Attr(sb, "val:min", PythonFloat(value.Minimum));
            if (value.Has(4)) Attr(sb, "val:max", PythonFloat(value.Maximum));
            if (value.Has(8)) Attr(sb, "val:step", PythonFloat(value.Step));
        }
        if (n.Actions is { } actions)
        {
            var done = new HashSet<string>(StringComparer.Ordinal);
            foreach (var a in actions)
            {
                var name = a.Name.Replace(' ', '-');
                if (!IsName(name + "_desc") || !done.Add(name)) continue;
                Attr(sb, "act:" + name + "_desc", a.Description);
                Attr(sb, "act:" + name + "_kb", a.KeyBinding);
            }
        }
        var text = n.Text is null ? "" : n.Text.Replace("\uFFFC", "").Replace("\uFFFD", "");
        if (text.Length == 0 && n.Children.Count == 0)
        {
            sb.Append("/>");
            return;
        }
        sb.Append('>');
        Escape(sb, text, attribute: false);
        foreach (var c in n.Children) Element(sb, c, withIds);
        sb.Append("</").Append(tag).Append('>');
    }

    private static int FirstIndex(List<KeyValuePair<string, string>> list, string key)
    {
        for (var i = 0; i < list.Count; i++) if (list[i].Key == key) return i;
        return -1;
    }

    private static string? LastValue(List<KeyValuePair<string, string>> list, string key)
    {
        for (var i = list.Count - 1; i >= 0; i--) if (list[i].Key == key) return list[i].Value;
        return null;
    }

    private static void Attr(StringBuilder sb, string name, string value)
    {
        sb.Append(' ').Append(name).Append("=\"");
        Escape(sb, value, attribute: true);
        sb.Append('"');
    }

    /// <summary>Escapes as libxml2 serializes; characters XML cannot carry are dropped.</summary>
    internal static void Escape(StringBuilder sb, string s, bool attribute)
    {
        for (var i = 0; i < s.Length; i++)
        {
            var c = s[i];
            switch (c)
            {
                case '&': sb.Append("&amp;"); break;
                case '<': sb.Append("&lt;"); break;
                case '>': sb.Append("&gt;"); break;
                case '"' when attribute: sb.Append("&quot;"); break;
                case '\n' when attribute: sb.Append("&#10;"); break;
                case '\t' when attribute: sb.Append("&#9;"); break;
                case '\r': sb.Append("&#13;"); break;
                default:
                    if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
                    {
                        sb.Append(c).Append(s[++i]);
                    }
                    else if (XmlConvert.IsXmlChar(c)) sb.Append(c);
                    break;
            }
        }
    }

    private static bool IsName(string s)
    {
        if (s.Length == 0 || s.Contains(':')) return false;
        try { XmlConvert.VerifyNCName(s); return true; }
        catch (XmlException) { return false; }
    }

    /// <summary>A double as Python's str() writes it (0.0, 50.0, 0.1, 1e-05).</summary>
    internal static string PythonFloat(double v)
    {
        if (double.IsNaN(v)) return "nan";
        if (double.IsPositiveInfinity(v)) return "inf";
        if (double.IsNegativeInfinity(v)) return "-inf";
        if (v == Math.Floor(v) && Math.Abs(v) < 1e16)
            return v == 0 && double.IsNegative(v) ? "-0.0" : v.ToString("F1", CultureInfo.InvariantCulture);
        var r = v.ToString("R", CultureInfo.InvariantCulture);
        var e = r.IndexOf('E');
        if (e < 0) return r;
        var mantissa = r[..e];
        var exp = int.Parse(r[(e + 1)..], CultureInfo.InvariantCulture);
        var abs = Math.Abs(v);
        if (abs >= 1e-4 && abs < 1e16)
            return v.ToString("0.####################", CultureInfo.InvariantCulture);
        return mantissa + "e" + (exp < 0 ? "-" : "+") + Math.Abs(exp).ToString("00", CultureInfo.InvariantCulture);
    }
}
