using System.Text;
using Sandbox.Common;

namespace Sandbox.OsWorld;

/// <summary>The string handling OSWorld's server applies to requests: POSIX shell-word splitting (Python's
/// <c>shlex.split</c>) and <c>os.path.expandvars(os.path.expanduser(p))</c>.</summary>
internal static class ShellWords
{
    /// <summary>Splits as <c>shlex.split</c> does (POSIX mode, no comments); an unclosed quote is a 400.</summary>
    public static List<string> Split(string s, string field)
    {
        var words = new List<string>();
        var word = new StringBuilder();
        var inWord = false;
        for (var i = 0; i < s.Length; i++)
        {
            var c = s[i];
            if (c is ' ' or '\t' or '\n' or '\r')
            {
                if (inWord) { words.Add(word.ToString()); word.Clear(); inWord = false; }
                continue;
            }
            inWord = true;
            if (c == '\\')
            {
                if (++i >= s.Length) throw SandboxException.BadField(field, "no escaped character");
                word.Append(s[i]);
            }
            else if (c == '\'')
            {
                var end = s.IndexOf('\'', i + 1);
                if (end < 0) throw SandboxException.BadField(field, "no closing quotation");
                word.Append(s, i + 1, end - i - 1);
                i = end;
            }
            else if (c == '"')
            {
                for (i++; ; i++)
                {
                    if (i >= s.Length) throw SandboxException.BadField(field, "no closing quotation");
                    if (s[i] == '"') break;
                    // Inside double quotes a backslash escapes only a quote or a backslash.
                    if (s[i] == '\\' && i + 1 < s.Length && s[i + 1] is '"' or '\\') i++;
                    word.Append(s[i]);
                }
            }
            else word.Append(c);
        }
        if (inWord) words.Add(word.ToString());
        return words;
    }

    /// <summary><c>~/x</c> as the service user's home; other arguments as given (OSWorld expands only <c>~/</c>).</summary>
    public static string ExpandHome(string arg) =>
        arg.StartsWith("~/", StringComparison.Ordinal) ? Path.Combine(HomePath.Home, arg[2..]) : arg;

    /// <summary><c>~</c> and <c>~/</c>, then <c>$NAME</c> / <c>${NAME}</c> of set variables (unset ones stay as written).</summary>
    public static string ExpandPath(string path)
    {
        if (path == "~") path = HomePath.Home;
        else path = ExpandHome(path);
        if (!path.Contains('$')) return path;
        var sb = new StringBuilder(path.Length);
        for (var i = 0; i < path.Length; i++)
        {
            if (path[i] != '$' || i + 1 >= path.Length) { sb.Append(path[i]); continue; }
            int start, end;
            if (path[i + 1] == '{')
            {
                var close = path.IndexOf('}', i + 2);
                if (close < 0) { sb.Append(path[i]); continue; }
                (start, end) = (i + 2, close);
            }
            else
            {
                end = i + 1;
                while (end < path.Length && (char.IsAsciiLetterOrDigit(path[end]) || path[end] == '_')) end++;
                start = i + 1;
            }
            var name = path[start..end];
            var value = name.Length == 0 ? null : Environment.GetEnvironmentVariable(name);
            if (value is null) { sb.Append(path[i]); continue; }
            sb.Append(value);
            i = path[i + 1] == '{' ? end : end - 1;
        }
        return sb.ToString();
    }
}
