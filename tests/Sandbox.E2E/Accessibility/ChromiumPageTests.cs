using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Sandbox.E2E.Infrastructure;
using Sandbox.Testing;
using Xunit;
using Xunit.Abstractions;

namespace Sandbox.E2E.Accessibility;

/// <summary>
/// A desktop with Chromium showing a known page (a11y_page.py, 250 groups: 2,003 elements in the document):
/// Xvfb, a private session bus, the AT-SPI bus launcher, Debian's chromium in a window (not headless: AT-SPI
/// needs the real browser UI) with --force-renderer-accessibility, and one published appliance on that bus.
/// Disposing stops everything it started, in reverse order, even after a failure half-way.
/// </summary>
public sealed class ChromiumPageFixture : IDisposable
{
    public const int Groups = 250;
    private readonly DesktopProcesses _processes = new();
    private readonly string _dir;

    public ChromiumPageFixture()
    {
        _dir = Directory.CreateTempSubdirectory("sandbox-a11y-chromium-").FullName;
        try
        {
            if (!File.Exists("/usr/bin/chromium"))
                throw new InvalidOperationException("Debian's chromium is missing (tools/ensure-packages.sh test installs it)");
            var page = Path.Combine(_dir, "page.html");
            Processes.Check(Repo.SystemPython, [Path.Combine(Repo.Root, "tests", "Sandbox.E2E", "Accessibility", "a11y_page.py"), page, Groups.ToString()]);
            X = XvfbServer.Start(1280, 800);
            var bus = Spawn("dbus-daemon", ["--session", "--nofork", "--print-address=1", $"--address=unix:tmpdir={_dir}"], new Dictionary<string, string?>(X.Env));
            var address = bus.StandardOutput.ReadLineAsync();
            if (!address.Wait(20_000) || string.IsNullOrEmpty(address.Result)) throw new InvalidOperationException("dbus-daemon did not start");
            Env = new Dictionary<string, string?>(X.Env)
            {
                ["DBUS_SESSION_BUS_ADDRESS"] = address.Result.Trim(),
                ["XDG_RUNTIME_DIR"] = _dir,
                ["AT_SPI_BUS_ADDRESS"] = null,
                ["NO_AT_BRIDGE"] = null,
            };
            Spawn("/usr/libexec/at-spi-bus-launcher", ["--launch-immediately"], Env);
            AccessibilityFixture.WaitFor(() => Processes.Run("dbus-send", ["--session", "--print-reply", "--dest=org.a11y.Bus", "/org/a11y/bus", "org.a11y.Bus.GetAddress"], Env, 10_000).Code == 0,
                "the accessibility bus (org.a11y.Bus) to appear");
            Browser = Spawn("/usr/bin/chromium", [
                "--no-sandbox", "--test-type", "--no-first-run", "--no-default-browser-check", "--disable-gpu",
                "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-features=Translate,MediaRouter",
                "--password-store=basic", "--force-renderer-accessibility", $"--user-data-dir={Path.Combine(_dir, "profile")}",
                "--window-position=0,0", "--window-size=1280,800", new Uri(page).AbsoluteUri,
            ], Env);
            App = ApplianceProcess.Start(X, Env);
            // The page is loaded and its last element is in the appliance's tree.
            AccessibilityFixture.WaitFor(() =>
            {
                var r = App.Http.GetAsync("/accessibility/find?role=check%20box&name=Check%20" + (Groups - 1) + "&match=exact&app=Chromium").Result;
                return r.IsSuccessStatusCode && r.Content.ReadAsStringAsync().Result.Contains("\"count\":1");
            }, "the page's elements in the appliance's tree", 120_000);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public XvfbServer X { get; } = null!;
    public Dictionary<string, string?> Env { get; } = null!;
    public Process Browser { get; } = null!;
    public ApplianceProcess App { get; } = null!;

    private Process Spawn(string file, IEnumerable<string> args, IDictionary<string, string?> env) =>
        _processes.Spawn(file, args, env, drainStdout: false);

    public JsonDocument GetJson(string path)
    {
        var r = App.Http.GetAsync(path).Result;
        var body = r.Content.ReadAsStringAsync().Result;
        if (!r.IsSuccessStatusCode) throw new InvalidOperationException($"GET {path}: {(int)r.StatusCode} {body}");
        return JsonDocument.Parse(body);
    }

    /// <summary>The pyatspi reference walk of the same desktop (OSWorld's contract).</summary>
    public string ReferenceXml() =>
        Processes.Check(Repo.SystemPython, [Path.Combine(Repo.Root, "tests", "Sandbox.E2E", "Accessibility", "pyatspi_reference.py")], Env, 300_000);

    public void Dispose()
    {
        App?.Dispose();
        _processes.Dispose();
        X?.Dispose();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

[CollectionDefinition("accessibility-chromium")]
public sealed class ChromiumPageCollection : ICollectionFixture<ChromiumPageFixture>;

[Collection("accessibility-chromium")]
public sealed class ChromiumPageTests(ChromiumPageFixture f, ITestOutputHelper output)
{
    [Fact]
    public void PageElementsAppearWithRolesNamesAndOrder()
    {
        using var json = f.GetJson("/accessibility/tree?app=Chromium&timeout_ms=30000");
        Assert.False(json.RootElement.TryGetProperty("truncated", out var t) && t.ValueKind == JsonValueKind.String, t.ToString());
        var apps = json.RootElement.GetProperty("root").GetProperty("children");
        Assert.Equal(1, apps.GetArrayLength());
        // The page's document (the browser has others of its own, e.g. an empty new-tab page).
        var doc = AccessibilityTests.Flatten(apps[0]).Single(e => RoleName(e) == ("document web", "A11y Page"));
        var all = AccessibilityTests.Flatten(doc).ToList();
        Assert.Equal(3 + 8 * ChromiumPageFixture.Groups, all.Count);

        var children = doc.GetProperty("children").EnumerateArray().ToList();
        Assert.Equal(1 + ChromiumPageFixture.Groups, children.Count);
        Assert.Equal(("heading", "A11y Page"), RoleName(children[0]));
        string[] roles = ["heading", "link", "push button", "entry", "check box"];
        for (var i = 0; i < ChromiumPageFixture.Groups; i++)
        {
            var group = children[i + 1];
            Assert.Equal(("landmark", $"Group {i}"), RoleName(group));
            var parts = group.GetProperty("children").EnumerateArray().ToList();
            Assert.Equal(roles, parts.Select(p => RoleName(p).Role).ToArray());
            Assert.Equal([$"Heading {i}", $"Link {i}", $"Button {i}", $"Input {i}", $"Check {i}"], parts.Select(p => RoleName(p).Name).ToArray());
            Assert.Equal($"Value {i}", parts[3].GetProperty("text").GetString());
            Assert.Contains("editable", parts[3].GetProperty("states").EnumerateArray().Select(s => s.GetString()));
            Assert.Equal(("static", $"Heading {i}"), RoleName(parts[0].GetProperty("children")[0]));
        }
        // The first group is on screen: its button has bounds inside the window; far ones are off screen.
        var b = children[1].GetProperty("children")[2].GetProperty("bounds").EnumerateArray().Select(v => v.GetInt32()).ToArray();
        Assert.True(b[2] > 0 && b[3] > 0 && b[0] >= 0 && b[1] >= 0 && b[0] + b[2] <= f.X.Width && b[1] + b[3] <= f.X.Height, string.Join(",", b));
        output.WriteLine($"chromium: {all.Count} elements in the document, {AccessibilityTests.Flatten(apps[0]).Count()} in the application");
    }

    [Fact]
    public void CachedDetailsFollowChangesInThePage()
    {
        // The detail cache (text, values, actions kept between walks, read again after the browser's events) follows the
        // page: after set_text and a checkbox click the tree shows the new text, state and action names, and the whole
        // answer equals a pyatspi walk node by node. The page is put back afterwards (group 1: on screen, nothing scrolls).
        int Id(string q)
        {
            using var d = f.GetJson("/accessibility/find?" + q + "&match=exact&timeout_ms=30000");
            return d.RootElement.GetProperty("elements")[0].GetProperty("id").GetInt32();
        }
        void Act(int id, object body) =>
            Assert.Equal(System.Net.HttpStatusCode.OK, f.App.Http.PostAsJsonAsync($"/accessibility/elements/{id}/action", body).Result.StatusCode);
        void Type(int id, string text)
        {
            f.X.MovePointer(640, 400); // the pointer over the browser window: it has the keyboard (no window manager)
            Act(id, new { action = "focus" });
            AccessibilityFixture.WaitFor(() => f.GetJson($"/accessibility/elements/{id}").RootElement.GetProperty("element")
                .GetProperty("states").EnumerateArray().Any(s => s.GetString() == "focused"), "the input to have focus");
            Processes.Check("xdotool", ["key", "--clearmodifiers", "ctrl+a", "BackSpace"], f.Env);
            Processes.Check("xdotool", ["type", "--delay", "20", text], f.Env);
        }
        (string? Text, bool Checked) Read(int input, int check)
        {
            using var tree = f.GetJson("/accessibility/tree?app=Chromium&timeout_ms=30000");
            var all = AccessibilityTests.Flatten(tree.RootElement.GetProperty("root")).ToList();
            var i = all.Single(e => e.GetProperty("id").GetInt32() == input);
            var c = all.Single(e => e.GetProperty("id").GetInt32() == check);
            return (i.GetProperty("text").GetString(), c.GetProperty("states").EnumerateArray().Any(s => s.GetString() == "checked"));
        }
        f.GetJson("/accessibility/tree?app=Chromium&timeout_ms=30000").Dispose(); // fills the cache
        var input = Id("role=entry&name=Input%201");
        var check = Id("role=check%20box&name=Check%201");
        Assert.Equal(("Value 1", false), Read(input, check));
        try
        {
            Type(input, "typed 1"); // Chromium has no EditableText: focus, then keys
            Act(check, new { action = "do_action" });
            AccessibilityFixture.WaitFor(() => Read(input, check) == ("typed 1", true), "the tree to show the new text and the checked box");
            Assert.Null(AccessibilityTests.DifferenceFromPyatspi(f.ReferenceXml, () => f.GetJson("/accessibility?timeout_ms=30000"), output, out _));
        }
        finally
        {
            Type(input, "Value 1");
            if (Read(input, check).Checked) Act(check, new { action = "do_action" });
            AccessibilityFixture.WaitFor(() => Read(input, check) == ("Value 1", false), "the page to be put back");
        }
    }

    private static (string Role, string Name) RoleName(JsonElement e) => (e.GetProperty("role").GetString()!, e.GetProperty("name").GetString()!);

    [Fact]
    public void OsWorldAnswerMatchesPyatspiWalkNodeByNode()
    {
        // Retried: the browser's own interface may change between the two walks.
        var difference = AccessibilityTests.DifferenceFromPyatspi(f.ReferenceXml, () => f.GetJson("/accessibility?timeout_ms=30000"), output, out var count);
        if (difference is not null) Assert.Fail(difference);
        Assert.True(count > 3 + 8 * ChromiumPageFixture.Groups, $"only {count} elements");
        output.WriteLine($"chromium: {count} elements identical to the pyatspi walk");
    }

    [Fact]
    public void FindByRoleAndNameGivesTheOneElementWithItsDetails()
    {
        using var found = f.GetJson("/accessibility/find?role=entry&name=Input%20137&match=exact&timeout_ms=30000");
        var elements = found.RootElement.GetProperty("elements");
        Assert.Equal(1, elements.GetArrayLength());
        Assert.Equal("Value 137", elements[0].GetProperty("text").GetString());
        using var byText = f.GetJson("/accessibility/find?role=entry&text=Value%20138&match=exact&timeout_ms=30000");
        Assert.Equal("Input 138", byText.RootElement.GetProperty("elements")[0].GetProperty("name").GetString());
        using var links = f.GetJson("/accessibility/find?role=link&name=%5ELink%201%5Cd%24&match=regex&timeout_ms=30000");
        Assert.Equal(Enumerable.Range(10, 10).Select(i => $"Link {i}"),
            links.RootElement.GetProperty("elements").EnumerateArray().Select(e => e.GetProperty("name").GetString()));
    }
}
