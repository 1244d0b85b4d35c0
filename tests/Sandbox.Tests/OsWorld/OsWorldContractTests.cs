using System.Text.Json;
using Sandbox.Common;
using Sandbox.OsWorld;

namespace Sandbox.Tests.OsWorld;

/// <summary>How OSWorld's server reads <c>command</c>/<c>shell</c> (Python's shlex and subprocess), checked on cases
/// whose answers were taken from Python 3.11 (shlex.split, subprocess's argv, repr of a list).</summary>
public sealed class OsWorldContractTests
{
    [Theory]
    [InlineData("ls -la /tmp", new[] { "ls", "-la", "/tmp" })]
    [InlineData("echo 'a b'  \"c d\"", new[] { "echo", "a b", "c d" })]
    [InlineData("printf '%s|' \"x \\\"y\\\" \\\\z \\$w\"", new[] { "printf", "%s|", "x \"y\" \\z \\$w" })]
    [InlineData("a\\ b c\\'d", new[] { "a b", "c'd" })]
    [InlineData("'it'\"'\"'s'", new[] { "it's" })]
    [InlineData("  x  ''  ", new[] { "x", "" })]
    [InlineData("", new string[0])]
    public void Strings_split_as_shlex_split(string line, string[] expected) =>
        Assert.Equal(expected, ShellWords.Split(line, "command"));

    [Theory]
    [InlineData("'open")]
    [InlineData("\"open")]
    [InlineData("end\\")]
    public void Unbalanced_quotes_are_a_400_naming_command(string line)
    {
        var e = Assert.Throws<SandboxException>(() => ShellWords.Split(line, "command"));
        Assert.Equal(("command", ErrorKind.BadRequest), (e.Field, e.Kind));
    }

    private static CommandRequest Request(string json) => JsonSerializer.Deserialize(json, OsWorldJson.Default.CommandRequest)!;

    [Fact]
    public void Command_and_shell_become_what_subprocess_would_exec()
    {
        var home = HomePath.Home;
        Assert.Equal(["ls", home + "/Desktop", "~user"], OsWorldAdapter.Argv(Request("""{"command": ["ls", "~/Desktop", "~user"]}""")));
        Assert.Equal(["cat", home + "/a b"], OsWorldAdapter.Argv(Request("""{"command": "cat '~/a b'"}""")));
        Assert.Equal(["/bin/sh", "-c", "echo ~/x | wc"], OsWorldAdapter.Argv(Request("""{"command": "echo ~/x | wc", "shell": true}""")));
        Assert.Equal(["/bin/sh", "-c", "echo $0", home + "/y"], OsWorldAdapter.Argv(Request("""{"command": ["echo $0", "~/y"], "shell": true}""")));
        Assert.Equal(["/bin/sh", "-c", ""], OsWorldAdapter.Argv(Request("""{"shell": true}""")));
    }

    [Theory]
    [InlineData("""{"command": 5}""")]
    [InlineData("""{"command": ["ls", 5]}""")]
    [InlineData("""{"command": []}""")]
    [InlineData("""{}""")]
    [InlineData("""{"command": "   "}""")]
    public void Unusable_commands_are_a_400_naming_command(string json)
    {
        var e = Assert.Throws<SandboxException>(() => OsWorldAdapter.Argv(Request(json)));
        Assert.Equal(("command", ErrorKind.BadRequest), (e.Field, e.Kind));
    }

    [Fact]
    public void Lists_are_written_as_pythons_repr()
    {
        Assert.Equal("['sleep', '200']", OsWorldAdapter.PyRepr(["sleep", "200"]));
        Assert.Equal("[\"it's\", 'a\\\\b', 'say \"hi\"', 'x\\'y\"z']", OsWorldAdapter.PyRepr(["it's", "a\\b", "say \"hi\"", "x'y\"z"]));
    }

    [Fact]
    public void Paths_expand_home_and_set_variables_only()
    {
        Environment.SetEnvironmentVariable("OSWORLD_TEST_DIR", "/data");
        Assert.Equal(HomePath.Home + "/f.txt", ShellWords.ExpandPath("~/f.txt"));
        Assert.Equal(HomePath.Home, ShellWords.ExpandPath("~"));
        Assert.Equal("/data/x/data", ShellWords.ExpandPath("$OSWORLD_TEST_DIR/x${OSWORLD_TEST_DIR}"));
        Assert.Equal("/a/$OSWORLD_UNSET_VAR/b", ShellWords.ExpandPath("/a/$OSWORLD_UNSET_VAR/b"));
    }
}
