using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Xml.Linq;
using Sandbox.E2E.Infrastructure;
using Sandbox.Testing;
using Xunit;
using Xunit.Abstractions;

namespace Sandbox.E2E.Accessibility;

[CollectionDefinition("accessibility")]
public sealed class AccessibilityCollection : ICollectionFixture<AccessibilityFixture>;

[Collection("accessibility")]
public sealed class AccessibilityTests(AccessibilityFixture f, ITestOutputHelper output)
{
    [Fact]
    public void OsWorldAnswerMatchesPyatspiWalkNodeByNode()
    {
        // Same desktop, walked by pyatspi under OSWorld's contract and by the appliance; retried because an
        // application may change between the two walks (it should not here: nothing moves).
        var difference = DifferenceFromPyatspi(() => f.ReferenceXml(), () => f.GetJson("/accessibility"), output, out var count);
        if (difference is not null) Assert.Fail(difference);
        Assert.True(count > 250, $"only {count} elements");
        output.WriteLine($"accessibility: {count} elements identical to the pyatspi walk");
    }

    /// <summary>
    /// Compares the appliance's OSWorld answer with a pyatspi walk of the same desktop, up to three times (an application
    /// may change between the two walks); null as soon as one attempt matched, else the last difference.
    /// </summary>
    internal static string? DifferenceFromPyatspi(Func<string> referenceXml, Func<JsonDocument> answer, ITestOutputHelper output, out int count)
    {
        string? difference = null;
        count = 0;
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var reference = XElement.Parse(referenceXml());
            using var ours = answer();
            difference = Compare(reference, XElement.Parse(ours.RootElement.GetProperty("AT").GetString()!), out count);
            if (difference is null) return null;
            output.WriteLine($"attempt {attempt}: {difference}");
        }
        return difference;
    }

    internal static string? Compare(XElement expected, XElement actual, out int count)
    {
        var e = expected.DescendantsAndSelf().ToList();
        var a = actual.DescendantsAndSelf().ToList();
        count = a.Count;
        for (var i = 0; i < Math.Min(e.Count, a.Count); i++)
        {
            var x = e[i];
            var y = a[i];
            var path = string.Join("/", y.AncestorsAndSelf().Reverse().Select(n => n.Name.LocalName + (n.Attribute("name")?.Value is { Length: > 0 } nm ? $"[{nm}]" : "")));
            if (x.Name != y.Name) return $"element {i} ({path}): {x.Name} expected, {y.Name} given";
            var xa = x.Attributes().Where(t => !t.IsNamespaceDeclaration).ToDictionary(t => t.Name, t => t.Value);
            var ya = y.Attributes().Where(t => !t.IsNamespaceDeclaration).ToDictionary(t => t.Name, t => t.Value);
            foreach (var (k, v) in xa)
                if (!ya.TryGetValue(k, out var w) || w != v) return $"element {i} ({path}): {k}={v} expected, {(ya.ContainsKey(k) ? w : "none")} given";
            foreach (var k in ya.Keys)
                if (!xa.ContainsKey(k)) return $"element {i} ({path}): {k} given, not expected";
            var xt = string.Concat(x.Nodes().OfType<XText>().Select(t => t.Value));
            var yt = string.Concat(y.Nodes().OfType<XText>().Select(t => t.Value));
            if (xt != yt) return $"element {i} ({path}): text '{xt}' expected, '{yt}' given";
        }
        return e.Count == a.Count ? null : $"{e.Count} elements expected, {a.Count} given";
    }

    [Fact]
    public void TreeFormatsCarryIdsAndBounds()
    {
        using var json = f.GetJson("/accessibility/tree?app=A11y%20Probe");
        var apps = json.RootElement.GetProperty("root").GetProperty("children");
        Assert.Equal(1, apps.GetArrayLength());
        var all = Flatten(apps[0]).ToList();
        var button = all.Single(e => e.GetProperty("role").GetString() == "push button" && e.GetProperty("name").GetString() == "Count");
        Assert.True(button.GetProperty("id").GetInt32() > 0);
        var b = button.GetProperty("bounds").EnumerateArray().Select(v => v.GetInt32()).ToArray();
        Assert.True(b[2] > 0 && b[3] > 0 && b[0] >= 0 && b[1] >= 0 && b[0] + b[2] <= f.X.Width);

        var text = f.App.Http.GetStringAsync("/accessibility/tree?format=text&app=A11y%20Probe").Result;
        // The text format reads only what it shows (no attributes), and shows the bounds and actions.
        var line = text.Split('\n').Single(l => l.TrimStart().StartsWith($"[{button.GetProperty("id").GetInt32()}] push button \"Count\""));
        Assert.Contains($" @{b[0]},{b[1]} {b[2]}x{b[3]}", line);
        Assert.Contains(" actions=click", line);
        var xml = XElement.Parse(f.App.Http.GetStringAsync("/accessibility/tree?format=xml&app=A11y%20Probe").Result);
        Assert.Contains(xml.Descendants(), e => e.Name.LocalName == "push-button" && (string?)e.Attribute("id") == button.GetProperty("id").GetInt32().ToString());

        // Stable ids: the same element has the same id in the next answer.
        using var again = f.GetJson("/accessibility/find?role=push%20button&name=Count&match=exact");
        Assert.Equal(button.GetProperty("id").GetInt32(), again.RootElement.GetProperty("elements")[0].GetProperty("id").GetInt32());

        // Scaled bounds for an agent working on a half-size screenshot.
        using var scaled = f.GetJson("/accessibility/find?role=push%20button&name=Count&scale=0.5");
        var sb = scaled.RootElement.GetProperty("elements")[0].GetProperty("scaled_bounds").EnumerateArray().Select(v => v.GetInt32()).ToArray();
        Assert.Equal(Math.Round(b[0] * 0.5), sb[0], 0);
    }

    [Fact]
    public void FindMatchesExactSubstringAndRegex()
    {
        int Count(string q) => f.GetJson("/accessibility/find?" + q).RootElement.GetProperty("count").GetInt32();
        Assert.Equal(1, Count("role=push%20button&name=Count&match=exact"));
        Assert.Equal(0, Count("role=push%20button&name=Coun&match=exact"));
        Assert.True(Count("role=push%20button&name=coun") >= 1);
        Assert.True(Count("name=%5EC(o%7Cl)(unt%7Cose)%24&match=regex") >= 2); // ^C(o|l)(unt|ose)$: Count and Close
        Assert.True(Count("role=radio%20button&states=checked") >= 1);
        var bad = f.App.Http.GetAsync("/accessibility/find?name=(&match=regex").Result;
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
    }

    [Fact]
    public void ButtonActionChangesTheLabelTheTreeShows()
    {
        var id = FindId("role=push%20button&name=Count&match=exact&app=A11y%20Probe");
        var before = Labels();
        var n = before.Select(l => l.StartsWith("Clicked ") ? int.Parse(l.Split(' ')[1]) : -1).Max();
        var r = Post($"/accessibility/elements/{id}/action", new { action = "do_action", name = "click" });
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        AccessibilityFixture.WaitFor(() => f.ProbeSaid($"clicked {n + 1}"), "the click to reach the window");
        AccessibilityFixture.WaitFor(() => Labels().Contains($"Clicked {n + 1} times"), "the tree to show the new label");
    }

    [Fact]
    public void SetTextPutsTextInTheEntry()
    {
        var id = FindId("role=text&app=A11y%20Probe&states=editable");
        var r = Post($"/accessibility/elements/{id}/action", new { action = "set_text", text = "hello a11y" });
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        AccessibilityFixture.WaitFor(() => f.ProbeSaid("entry hello a11y"), "the entry to change");
        using var found = f.GetJson("/accessibility/find?text=hello%20a11y&app=A11y%20Probe");
        Assert.Equal(id, found.RootElement.GetProperty("elements")[0].GetProperty("id").GetInt32());
    }

    [Fact]
    public void SetValueMovesTheScaleAndSelectPicksARow()
    {
        var scale = FindId("role=slider&app=A11y%20Probe");
        Assert.Equal(HttpStatusCode.OK, Post($"/accessibility/elements/{scale}/action", new { action = "set_value", value = 42 }).StatusCode);
        AccessibilityFixture.WaitFor(() => f.ProbeSaid("scale 42.0"), "the scale to move");

        using var rows = f.GetJson("/accessibility/find?role=list%20box&app=A11y%20Probe");
        var row = FindId("role=list%20item&app=A11y%20Probe", index: 1);
        Assert.Equal(HttpStatusCode.OK, Post($"/accessibility/elements/{row}/action", new { action = "select" }).StatusCode);
        AccessibilityFixture.WaitFor(() => f.ProbeSaid("selected row-2"), "the second row to be selected");

        var focusTarget = FindId("role=push%20button&name=Count&match=exact&app=A11y%20Probe");
        Assert.Equal(HttpStatusCode.OK, Post($"/accessibility/elements/{focusTarget}/action", new { action = "focus" }).StatusCode);
        AccessibilityFixture.WaitFor(() => f.GetJson("/accessibility/find?name=Count&match=exact&states=focused&app=A11y%20Probe")
            .RootElement.GetProperty("count").GetInt32() == 1, "the button to have focus");
    }

    [Fact]
    public void CachedDetailsFollowEachChangeAtOnce()
    {
        // Text, values and actions are kept between walks and read again after the application's events
        // (docs/accessibility.md, SANDBOX_A11Y_CACHE): right after each change the application confirmed, the very
        // next tree shows it (no retry), and the whole answer still equals a pyatspi walk.
        const string Probe = "/accessibility/tree?app=A11y%20Probe";
        f.GetJson(Probe).Dispose(); // fills the cache
        f.GetJson(Probe).Dispose(); // answered from it
        var entry = FindId("role=text&app=A11y%20Probe&states=editable");
        var scale = FindId("role=slider&app=A11y%20Probe");
        var button = FindId("role=push%20button&name=Count&match=exact&app=A11y%20Probe");
        for (var round = 0; round < 3; round++)
        {
            var text = $"cached text {round}";
            Assert.Equal(HttpStatusCode.OK, Post($"/accessibility/elements/{entry}/action", new { action = "set_text", text }).StatusCode);
            AccessibilityFixture.WaitFor(() => f.ProbeSaid("entry " + text), "the entry to change");
            var value = 11 + 7 * round;
            Assert.Equal(HttpStatusCode.OK, Post($"/accessibility/elements/{scale}/action", new { action = "set_value", value }).StatusCode);
            AccessibilityFixture.WaitFor(() => f.ProbeSaid($"scale {value}.0"), "the scale to move");
            var clicks = f.ProbeOutput().Split('\n').Select(l => l.StartsWith("clicked ") ? int.Parse(l[8..]) : 0).Max() + 1;
            Assert.Equal(HttpStatusCode.OK, Post($"/accessibility/elements/{button}/action", new { action = "do_action", name = "click" }).StatusCode);
            AccessibilityFixture.WaitFor(() => f.ProbeSaid($"clicked {clicks}"), "the click to reach the window");

            using var tree = f.GetJson(Probe);
            var all = Flatten(tree.RootElement.GetProperty("root")).ToList();
            JsonElement Element(int id) => all.Single(e => e.GetProperty("id").GetInt32() == id);
            Assert.Equal(text, Element(entry).GetProperty("text").GetString());
            Assert.Equal(value, Element(scale).GetProperty("value").GetProperty("current").GetDouble());
            Assert.Contains(all, e => e.GetProperty("role").GetString() == "label" && e.TryGetProperty("text", out var t)
                && t.GetString() == $"Clicked {clicks} times");
        }
        Assert.Null(DifferenceFromPyatspi(() => f.ReferenceXml(), () => f.GetJson("/accessibility"), output, out _));
    }

    [Fact]
    public void AtPointGivesTheDeepestElement()
    {
        using var found = f.GetJson("/accessibility/find?role=push%20button&name=Count&match=exact&app=A11y%20Probe");
        var e = found.RootElement.GetProperty("elements")[0];
        var b = e.GetProperty("bounds").EnumerateArray().Select(v => v.GetInt32()).ToArray();
        using var at = f.GetJson($"/accessibility/at?x={b[0] + b[2] / 2}&y={b[1] + b[3] / 2}");
        Assert.Equal(e.GetProperty("id").GetInt32(), at.RootElement.GetProperty("element").GetProperty("id").GetInt32());
    }

    [Fact]
    public void GoneElementAnswers404()
    {
        var p = f.Spawn(Repo.SystemPython, [Path.Combine(Repo.Root, "tests", "Sandbox.E2E", "Accessibility", "a11y_app.py"), "Short Lived"], f.Env);
        try
        {
            int id = 0;
            AccessibilityFixture.WaitFor(() =>
            {
                var r = f.GetJson("/accessibility/find?role=push%20button&name=Count&match=exact&app=Short%20Lived").RootElement;
                if (r.GetProperty("count").GetInt32() == 0) return false;
                id = r.GetProperty("elements")[0].GetProperty("id").GetInt32();
                return true;
            }, "the second window in the tree");
            p.Kill();
            p.WaitForExit(10_000);
            var answer = Post($"/accessibility/elements/{id}/action", new { action = "do_action" });
            Assert.Equal(HttpStatusCode.NotFound, answer.StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, Post("/accessibility/elements/999999/action", new { action = "focus" }).StatusCode);
        }
        finally
        {
            if (!p.HasExited) p.Kill();
        }
    }

    [Fact]
    public void StoppedApplicationGivesPartialTreeWithinBudget()
    {
        var p = f.Spawn(Repo.SystemPython, [Path.Combine(Repo.Root, "tests", "Sandbox.E2E", "Accessibility", "a11y_app.py"), "Frozen"], f.Env);
        try
        {
            AccessibilityFixture.WaitFor(() => f.GetJson("/accessibility/find?name=Count&match=exact&app=Frozen").RootElement
                .GetProperty("count").GetInt32() == 1, "the window to be in the tree");
            Processes.Check("kill", ["-STOP", p.Id.ToString()]);
            var sw = Stopwatch.StartNew();
            using var tree = f.GetJson("/accessibility/tree?timeout_ms=1500");
            output.WriteLine($"accessibility: tree with a stopped application answered in {sw.ElapsedMilliseconds} ms (budget 1500 ms)");
            var root = tree.RootElement;
            Assert.Contains("did not answer", root.GetProperty("truncated").GetString());
            var apps = root.GetProperty("root").GetProperty("children").EnumerateArray().ToList();
            // The other applications are whole.
            var factory = apps.Single(a => a.GetProperty("name").GetString() == "gtk3-widget-factory");
            Assert.True(Flatten(factory).Count() > 200);
            Assert.False(factory.TryGetProperty("truncated", out _));
            Assert.Contains(apps, a => a.TryGetProperty("truncated", out _));
            // OSWorld's endpoint also answers.
            var osworld = f.App.Http.GetAsync("/accessibility?timeout_ms=1500").Result;
            Assert.Equal(HttpStatusCode.OK, osworld.StatusCode);
        }
        finally
        {
            Processes.Run("kill", ["-CONT", p.Id.ToString()]);
            p.Kill();
        }
    }

    [Fact]
    public void RandomQueryStringsGive400NotServerErrors()
    {
        var rng = new Random(15);
        const string chars = "abcdefghijklmnopqrstuvwxyz_=&%?!()[]{}*+.^$|\\ 0123456789-éß\u00ff";
        string[] keys = ["format", "app", "window", "visible_only", "max_depth", "max_nodes", "timeout_ms", "role", "name", "states", "match", "x", "y", "scale", "bogus"];
        string[] paths = ["/accessibility/tree", "/accessibility/find", "/accessibility/at", "/accessibility"];
        var statuses = new Dictionary<int, int>();
        for (var i = 0; i < 100; i++)
        {
            var q = new StringBuilder();
            var parts = rng.Next(1, 4);
            for (var k = 0; k < parts; k++)
            {
                if (k > 0) q.Append('&');
                var key = rng.Next(3) == 0 ? RandomString(rng, chars, 6) : keys[rng.Next(keys.Length)];
                q.Append(Uri.EscapeDataString(key)).Append('=').Append(Uri.EscapeDataString(RandomString(rng, chars, rng.Next(1, 12))));
            }
            var path = paths[rng.Next(paths.Length)];
            var r = f.App.Http.GetAsync(path + "?" + q).Result;
            var status = (int)r.StatusCode;
            statuses[status] = statuses.GetValueOrDefault(status) + 1;
            Assert.True(status is 400 or 200, $"{path}?{q}: {status} {r.Content.ReadAsStringAsync().Result}");
            if (status == 400)
            {
                using var body = JsonDocument.Parse(r.Content.ReadAsStringAsync().Result);
                Assert.True(body.RootElement.TryGetProperty("message", out _));
            }
        }
        output.WriteLine("accessibility: 100 random query strings: " + string.Join(", ", statuses.OrderBy(s => s.Key).Select(s => $"{s.Value}×{s.Key}")));
        Assert.True(statuses.GetValueOrDefault(400) >= 90);
    }

    [Fact]
    public void BusAddressFromTheRootWindowProperty()
    {
        // A desktop without a session bus in our environment, but with AT_SPI_BUS on its root window.
        var reply = Processes.Check("dbus-send", ["--session", "--print-reply=literal", "--dest=org.a11y.Bus", "/org/a11y/bus", "org.a11y.Bus.GetAddress"], f.Env);
        var address = reply.Trim();
        Processes.Check("xprop", ["-root", "-f", "AT_SPI_BUS", "8s", "-set", "AT_SPI_BUS", address], f.Env);
        try
        {
            using var app = ApplianceProcess.Start(f.X, new Dictionary<string, string?> { ["DBUS_SESSION_BUS_ADDRESS"] = null, ["AT_SPI_BUS_ADDRESS"] = null });
            AccessibilityFixture.WaitFor(() => app.Http.GetStringAsync("/accessibility/tree?format=text").Result.Contains("\"Count\""),
                "the tree through the root window's address");
        }
        finally
        {
            Processes.Run("xprop", ["-root", "-remove", "AT_SPI_BUS"], f.Env);
        }
    }

    private static string RandomString(Random rng, string chars, int n) =>
        new(Enumerable.Range(0, n).Select(_ => chars[rng.Next(chars.Length)]).ToArray());

    private HttpResponseMessage Post(string path, object body) => f.App.Http.PostAsJsonAsync(path, body).Result;

    private int FindId(string query, int index = 0)
    {
        using var found = f.GetJson("/accessibility/find?" + query);
        var elements = found.RootElement.GetProperty("elements");
        Assert.True(elements.GetArrayLength() > index, $"find {query}: {elements}");
        return elements[index].GetProperty("id").GetInt32();
    }

    private List<string> Labels()
    {
        using var found = f.GetJson("/accessibility/find?role=label&app=A11y%20Probe");
        return found.RootElement.GetProperty("elements").EnumerateArray().Select(e => e.GetProperty("name").GetString() ?? "").ToList();
    }

    internal static IEnumerable<JsonElement> Flatten(JsonElement e)
    {
        yield return e;
        if (e.TryGetProperty("children", out var children))
            foreach (var c in children.EnumerateArray())
                foreach (var d in Flatten(c)) yield return d;
    }
}

/// <summary>Without an accessibility bus the appliance answers 503 at once and keeps serving the rest.</summary>
public sealed class AccessibilityWithoutBusTests
{
    /// <summary>An appliance whose session bus does not exist and that has no accessibility bus address.</summary>
    internal static ApplianceProcess StartWithoutBus(XvfbServer x) => ApplianceProcess.Start(x, new Dictionary<string, string?>
    {
        ["DBUS_SESSION_BUS_ADDRESS"] = "unix:path=/nonexistent/bus",
        ["AT_SPI_BUS_ADDRESS"] = null,
    });

    [Fact]
    public void NoBusAnswers503()
    {
        using var x = XvfbServer.Start(640, 480);
        using var app = StartWithoutBus(x);
        foreach (var path in new[] { "/accessibility", "/accessibility/tree", "/accessibility/find?role=label" })
        {
            var r = app.Http.GetAsync(path).Result;
            Assert.Equal(HttpStatusCode.ServiceUnavailable, r.StatusCode);
            using var body = JsonDocument.Parse(r.Content.ReadAsStringAsync().Result);
            Assert.Contains("accessibility bus", body.RootElement.GetProperty("message").GetString());
        }
        Assert.Equal(HttpStatusCode.OK, app.Http.GetAsync("/health").Result.StatusCode);
    }
}
