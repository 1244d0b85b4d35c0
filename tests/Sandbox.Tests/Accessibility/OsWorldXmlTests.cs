using System.Collections;
using System.Text.Json;
using System.Xml.Linq;
using Sandbox.Accessibility;
using Sandbox.Common;
using Xunit;

namespace Sandbox.Tests.Accessibility;

public class OsWorldXmlTests
{
    [Fact]
    public void AnswerIsSerializedUnderAT()
    {
        var json = JsonSerializer.Serialize(new OsWorldAnswer("<desktop-frame/>"), AccessibilityJson.Default.OsWorldAnswer);
        Assert.Equal("{\"AT\":\"\\u003Cdesktop-frame/\\u003E\"}", json);
    }

    [Theory]
    [InlineData(0.0, "0.0")]
    [InlineData(50.0, "50.0")]
    [InlineData(-3.0, "-3.0")]
    [InlineData(0.1, "0.1")]
    [InlineData(0.25, "0.25")]
    [InlineData(1e-05, "1e-05")]
    [InlineData(0.0001, "0.0001")]
    [InlineData(1e20, "1e+20")]
    [InlineData(double.NaN, "nan")]
    [InlineData(double.PositiveInfinity, "inf")]
    public void FloatsAreSpelledAsPythonDoes(double v, string expected) => Assert.Equal(expected, OsWorldXml.PythonFloat(v));

    [Fact]
    public void ElementsFollowOsWorldsContract()
    {
        var app = new AccessibleNode(new ObjRef(":1.1", "/org/a11y/atspi/accessible/root"), 1)
        {
            Role = 75, Name = "app & <co>", HasBasics = true, Interfaces = ["org.a11y.atspi.Accessible"],
        };
        var button = new AccessibleNode(new ObjRef(":1.1", "/a/1"), 2)
        {
            Role = 43, Name = "Close \"x\"\n", HasBasics = true,
            States = (1UL << AtspiNames.Visible) | (1UL << AtspiNames.Showing) | (1UL << 17),
            Interfaces = ["org.a11y.atspi.Accessible", "org.a11y.atspi.Component", "org.a11y.atspi.Image", "org.a11y.atspi.Action"],
            Attributes = [new("toolkit", "gtk"), new("bad key", "dropped"), new("toolkit", "GTK")],
            Extents = (10, 20, 30, 40),
            Text = "a\uFFFCb\uFFFDc<\u0001",
            Actions = [new ActionInfo("click me", "Clicks", "<Alt>c")],
            Value = new ValueInfo(5, 0, 100, 0.5),
        };
        var hidden = new AccessibleNode(new ObjRef(":1.1", "/a/2"), 2) { Role = 0, Extents = (1, 2, 3, 4), HasBasics = true };
        app.Children.Add(button);
        app.Children.Add(hidden);
        var xml = OsWorldXml.Write([app]);
        Assert.StartsWith("<desktop-frame xmlns:st=\"https://accessibility.ubuntu.example.org/ns/state\" xmlns:attr=", xml);
        var root = XElement.Parse(xml);
        XNamespace st = "https://accessibility.ubuntu.example.org/ns/state", cp = "https://accessibility.ubuntu.example.org/ns/component",
            attr = "https://accessibility.ubuntu.example.org/ns/attributes", act = "https://accessibility.ubuntu.example.org/ns/action",
            val = "https://accessibility.ubuntu.example.org/ns/value";
        var a = root.Elements().Single();
        Assert.Equal("application", a.Name.LocalName);
        Assert.Equal("app & <co>", (string?)a.Attribute("name"));
        var b = a.Elements().First();
        Assert.Equal("push-button", b.Name.LocalName);
        Assert.Equal("Close \"x\"\n", (string?)b.Attribute("name"));
        Assert.Equal("true", (string?)b.Attribute(st + "multi_line"));
        Assert.Equal("(10, 20)", (string?)b.Attribute(cp + "screencoord"));
        Assert.Equal("(30, 40)", (string?)b.Attribute(cp + "size"));
        Assert.Equal("GTK", (string?)b.Attribute(attr + "toolkit"));
        Assert.Equal("true", (string?)b.Attribute("image"));
        Assert.Null(b.Attribute("selection"));
        Assert.Equal("Clicks", (string?)b.Attribute(act + "click-me_desc"));
        Assert.Equal("<Alt>c", (string?)b.Attribute(act + "click-me_kb"));
        Assert.Equal("5.0", (string?)b.Attribute(val + "value"));
        Assert.Equal("0.5", (string?)b.Attribute(val + "step"));
        Assert.Equal("abc<", b.Value);
        var h = a.Elements().Last();
        Assert.Equal("invalid", h.Name.LocalName);
        Assert.Null(h.Attribute(cp + "screencoord")); // not visible and showing
        Assert.Equal("<desktop-frame xmlns:st=\"https://accessibility.ubuntu.example.org/ns/state\" xmlns:attr=\"https://accessibility.ubuntu.example.org/ns/attributes\" xmlns:cp=\"https://accessibility.ubuntu.example.org/ns/component\" xmlns:doc=\"https://accessibility.ubuntu.example.org/ns/document\" xmlns:docattr=\"https://accessibility.ubuntu.example.org/ns/document/attributes\" xmlns:txt=\"https://accessibility.ubuntu.example.org/ns/text\" xmlns:val=\"https://accessibility.ubuntu.example.org/ns/value\" xmlns:act=\"https://accessibility.ubuntu.example.org/ns/action\"/>",
            OsWorldXml.Write([]));
    }

    [Fact]
    public void ElementIdsAreStableAndBounded()
    {
        var ids = new ElementIds(100);
        var a = ids.IdOf(new ObjRef(":1.2", "/x/1"));
        Assert.Equal(a, ids.IdOf(new ObjRef(":1.2", "/x/1")));
        Assert.NotEqual(a, ids.IdOf(new ObjRef(":1.3", "/x/1")));
        Assert.True(ids.TryGet(a, out var r) && r.Path == "/x/1");
        for (var i = 0; i < 150; i++) ids.IdOf(new ObjRef(":1.9", "/y/" + i));
        Assert.True(ids.Count <= 100);
        Assert.False(ids.TryGet(a, out _));
    }

    [Fact]
    public void OptionsAreReadAndChecked()
    {
        var o = AccessibilityOptions.FromEnvironment(new EnvReader(new Hashtable { ["SANDBOX_A11Y_APP_TIMEOUT_MS"] = "500", ["SANDBOX_A11Y_SCREEN_READER"] = "0" }));
        Assert.Equal(500, o.AppTimeoutMs);
        Assert.False(o.EnableScreenReader);
        var r = new EnvReader(new Hashtable { ["SANDBOX_A11Y_MAX_NODES"] = "0" });
        AccessibilityOptions.FromEnvironment(r);
        Assert.Throws<OptionsException>(r.ThrowIfInvalid);
    }

    [Fact]
    public void TextFormatIsOneLinePerElement()
    {
        var app = new AccessibleNode(new ObjRef(":1.1", "/r"), 1) { Id = 1, Role = 75, Name = "demo", HasBasics = true };
        app.Children.Add(new AccessibleNode(new ObjRef(":1.1", "/b"), 2)
        {
            Id = 2, Role = 43, Name = "OK", HasBasics = true,
            States = (1UL << AtspiNames.Visible) | (1UL << AtspiNames.Showing) | (1UL << AtspiNames.Focused) | (1UL << AtspiNames.Enabled),
            Extents = (1, 2, 30, 40), Actions = [new ActionInfo("click", "", "")],
        });
        var text = AccessibilityApi.TextFormat(new DesktopTree([app], 2, null, 1), null);
        Assert.Equal("[1] application \"demo\"\n  [2] push button \"OK\" {focused} @1,2 30x40 actions=click\n", text);
    }
}
