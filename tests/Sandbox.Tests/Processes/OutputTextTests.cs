using System.Text;
using Sandbox.Common;
using Sandbox.Processes;

namespace Sandbox.Tests.Processes;

public sealed class OutputTextTests
{
    [Fact]
    public void UTF8_stays_text_and_anything_else_is_base64()
    {
        Assert.Equal(("héllo", "utf-8"), OutputText.Encode(Encoding.UTF8.GetBytes("héllo")));
        Assert.Equal((Convert.ToBase64String(new byte[] { 0xff, 0x41 }), "base64"), OutputText.Encode(new byte[] { 0xff, 0x41 }));
    }

    [Fact]
    public void A_character_cut_by_the_output_limit_is_dropped_instead_of_turning_everything_into_base64()
    {
        var bytes = Encoding.UTF8.GetBytes("ab€");
        Assert.Equal(("ab", "utf-8"), OutputText.Encode(bytes.AsSpan(0, 4), cut: true));
        Assert.Equal(("ab€", "utf-8"), OutputText.Encode(bytes, cut: true));
        Assert.Equal("base64", OutputText.Encode(bytes.AsSpan(0, 4), cut: false).Encoding);
    }

    [Fact]
    public void Input_is_decoded_by_its_declared_encoding()
    {
        Assert.Equal(new byte[] { 1, 2, 255 }, OutputText.Decode("AQL/", "base64", "stdin"));
        Assert.Equal("é"u8.ToArray(), OutputText.Decode("é", null, "stdin"));
        Assert.Equal("stdin", Assert.Throws<SandboxException>(() => OutputText.Decode("%%", "base64", "stdin")).Field);
        Assert.Equal("stdin_encoding", Assert.Throws<SandboxException>(() => OutputText.Decode("x", "latin1", "stdin")).Field);
    }

    [Fact]
    public void Paths_expand_the_home_and_resolve_relative_to_it()
    {
        Assert.Equal(HomePath.Home, HomePath.Resolve("~", "path"));
        Assert.Equal(Path.Combine(HomePath.Home, "a/b"), HomePath.Resolve("~/a/b/", "path"));
        Assert.Equal(Path.Combine(HomePath.Home, "x"), HomePath.Resolve("x", "path"));
        Assert.Equal("/etc", HomePath.Resolve("/tmp/../etc", "path"));
        Assert.Equal("path", Assert.Throws<SandboxException>(() => HomePath.Resolve("", "path")).Field);
        Assert.Throws<SandboxException>(() => HomePath.Resolve("~root/x", "path"));
    }
}
