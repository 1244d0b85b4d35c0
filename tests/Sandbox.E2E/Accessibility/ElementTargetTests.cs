using System.Net;
using System.Text;
using System.Text.Json;
using Sandbox.E2E.Infrastructure;
using Sandbox.Testing;
using Xunit;
using Xunit.Abstractions;

namespace Sandbox.E2E.Accessibility;

/// <summary>
/// Actions aimed at an accessibility element (<c>{"action": "left_click", "element": id}</c>) on the published
/// binary: the element is found by name through /accessibility/find, clicked through /computer/action(s),
/// and the click is seen by the application (its label changes) and by X (where the pointer is).
/// </summary>
[Collection("accessibility")]
public sealed class ElementTargetTests(AccessibilityFixture f, ITestOutputHelper output)
{
    private const string ProbeButton = "role=push%20button&name=Count&match=exact&app=A11y%20Probe";

    [Fact]
    public void LeftClickOnAnElementPressesTheButton()
    {
        RaiseProbe();
        var (id, bounds) = Find(ProbeButton);
        var n = Clicks();
        var (status, answer) = Post("/computer/action", $$"""{"action": "left_click", "element": {{id}}}""");
        output.WriteLine(answer.RootElement.ToString());
        Assert.Equal(HttpStatusCode.OK, status);
        var centre = new[] { bounds[0] + bounds[2] / 2, bounds[1] + bounds[3] / 2 };
        Assert.Equal(centre, Ints(answer.RootElement.GetProperty("screen_coordinate")));
        Assert.Equal(centre, Ints(answer.RootElement.GetProperty("coordinate")));

        AccessibilityFixture.WaitFor(() => f.ProbeSaid($"clicked {n + 1}"), "the click to reach the button");
        AccessibilityFixture.WaitFor(() => Labels().Contains($"Clicked {n + 1} times"), "the tree to show the new label");
        // X agrees on where the pointer went.
        var location = Processes.Check("xdotool", ["getmouselocation", "--shell"], f.Env, 10_000);
        Assert.Contains($"X={centre[0]}\n", location);
        Assert.Contains($"Y={centre[1]}\n", location);
    }

    [Fact]
    public void ElementCentreIsReportedInTheRequestsScale()
    {
        RaiseProbe();
        var (id, bounds) = Find(ProbeButton);
        var n = Clicks();
        // A half-size screenshot's agent: the screen pixel acted on is the element's centre; "coordinate" is that
        // pixel in the 640x400 screenshot (x · 640 / 1280, rounded half up).
        var (status, answer) = Post("/computer/action", $$"""{"action": "double_click", "element": {{id}}, "scale": 0.5}""");
        Assert.Equal(HttpStatusCode.OK, status);
        var centre = new[] { bounds[0] + bounds[2] / 2, bounds[1] + bounds[3] / 2 };
        Assert.Equal(centre, Ints(answer.RootElement.GetProperty("screen_coordinate")));
        var scaled = centre.Select(v => (int)Math.Floor(v * 0.5 + 0.5)).ToArray();
        Assert.Equal(scaled, Ints(answer.RootElement.GetProperty("coordinate")));
        AccessibilityFixture.WaitFor(() => f.ProbeSaid($"clicked {n + 2}"), "both clicks to reach the button");
    }

    [Fact]
    public void UnknownElementFailsItsActionWith404AndStopsTheBatch()
    {
        RaiseProbe();
        var (id, _) = Find(ProbeButton);
        var n = Clicks();
        var (status, answer) = Post("/computer/actions",
            $$"""{"actions": [{"action": "left_click", "element": {{id}}}, {"action": "left_click", "element": 99999999}, {"action": "left_click", "element": {{id}}}]}""");
        output.WriteLine(answer.RootElement.ToString());
        Assert.Equal(HttpStatusCode.NotFound, status);
        var root = answer.RootElement;
        Assert.Equal("error", root.GetProperty("status").GetString());
        Assert.Equal("Not Found", root.GetProperty("reason").GetString());
        Assert.Equal(1, root.GetProperty("failed_index").GetInt32());
        Assert.Contains("99999999", root.GetProperty("message").GetString());
        var results = root.GetProperty("results").EnumerateArray().Select(r => r.GetProperty("status").GetString()).ToArray();
        Assert.Equal(new[] { "ok", "error", "skipped" }, results);
        // Exactly one click happened, the first action's: a later click is the second the window sees (events
        // arrive in order, so a click by the skipped third action would have come before it).
        Assert.Equal(HttpStatusCode.OK, Post("/computer/action", $$"""{"action": "left_click", "element": {{id}}}""").Status);
        AccessibilityFixture.WaitFor(() => f.ProbeSaid($"clicked {n + 2}"), "the later click to reach the button");
        Assert.False(f.ProbeSaid($"clicked {n + 3}"), "the action after the failed one ran");

        // The single-action endpoint answers the same way; both fields at once is a 400 naming the field.
        var (single, body) = Post("/computer/action", """{"action": "mouse_move", "element": 99999999}""");
        Assert.Equal(HttpStatusCode.NotFound, single);
        Assert.Equal("Not Found", body.RootElement.GetProperty("reason").GetString());
        var (both, bad) = Post("/computer/action", $$"""{"action": "left_click", "element": {{id}}, "coordinate": [1, 1]}""");
        Assert.Equal(HttpStatusCode.BadRequest, both);
        Assert.StartsWith("element:", bad.RootElement.GetProperty("message").GetString());
    }

    [Fact]
    public void GoneElementFailsWith404()
    {
        var p = f.Spawn(Repo.SystemPython, [Path.Combine(Repo.Root, "tests", "Sandbox.E2E", "Accessibility", "a11y_app.py"), "Gone Soon"], f.Env);
        try
        {
            var id = 0;
            AccessibilityFixture.WaitFor(() =>
            {
                using var r = f.GetJson("/accessibility/find?role=push%20button&name=Count&match=exact&app=Gone%20Soon");
                if (r.RootElement.GetProperty("count").GetInt32() == 0) return false;
                id = r.RootElement.GetProperty("elements")[0].GetProperty("id").GetInt32();
                return true;
            }, "the short-lived window in the tree");
            p.Kill();
            p.WaitForExit(10_000);
            var (status, answer) = Post("/computer/action", $$"""{"action": "left_click", "element": {{id}}}""");
            output.WriteLine(answer.RootElement.ToString());
            Assert.Equal(HttpStatusCode.NotFound, status);
        }
        finally
        {
            if (!p.HasExited) p.Kill();
        }
    }

    /// <summary>Without a window manager the last mapped window is on top; put the test window there.</summary>
    private void RaiseProbe() =>
        Processes.Check("xdotool", ["search", "--sync", "--onlyvisible", "--name", "^A11y Probe$", "windowraise"], f.Env, 20_000);

    private (int Id, int[] Bounds) Find(string query)
    {
        using var found = f.GetJson("/accessibility/find?" + query);
        var e = found.RootElement.GetProperty("elements")[0];
        return (e.GetProperty("id").GetInt32(), Ints(e.GetProperty("bounds")));
    }

    private int Clicks() =>
        Labels().Select(l => l.StartsWith("Clicked ", StringComparison.Ordinal) ? int.Parse(l.Split(' ')[1]) : -1).Max();

    private List<string> Labels()
    {
        using var found = f.GetJson("/accessibility/find?role=label&app=A11y%20Probe");
        return found.RootElement.GetProperty("elements").EnumerateArray().Select(e => e.GetProperty("name").GetString() ?? "").ToList();
    }

    private (HttpStatusCode Status, JsonDocument Body) Post(string path, string json)
    {
        var r = f.App.Http.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json")).Result;
        return (r.StatusCode, JsonDocument.Parse(r.Content.ReadAsStringAsync().Result));
    }

    private static int[] Ints(JsonElement e) => e.EnumerateArray().Select(v => v.GetInt32()).ToArray();
}

/// <summary>Without an accessibility bus an action aimed at an element fails with 503; coordinates still work.</summary>
public sealed class ElementTargetWithoutBusTests
{
    [Fact]
    public void NoBusAnswers503()
    {
        using var x = XvfbServer.Start(640, 480);
        using var app = AccessibilityWithoutBusTests.StartWithoutBus(x);
        var r = app.Http.PostAsync("/computer/action", new StringContent("""{"action": "left_click", "element": 1}""", Encoding.UTF8, "application/json")).Result;
        using var body = JsonDocument.Parse(r.Content.ReadAsStringAsync().Result);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, r.StatusCode);
        Assert.Contains("accessibility bus", body.RootElement.GetProperty("message").GetString());
        var ok = app.Http.PostAsync("/computer/action", new StringContent("""{"action": "mouse_move", "coordinate": [10, 20]}""", Encoding.UTF8, "application/json")).Result;
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
    }
}
