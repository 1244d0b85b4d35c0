using System.Text.Json;
using Sandbox.Accessibility;
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
}
