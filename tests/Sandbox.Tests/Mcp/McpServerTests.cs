using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Sandbox.Mcp;

namespace Sandbox.Tests.Mcp;

/// <summary>The protocol core without HTTP: negotiation, the tool table, errors as the protocol wants them.</summary>
public sealed class McpServerTests
{
    private static McpServer Server(params McpTool[] tools)
    {
        var server = new McpServer(new McpOptions { MaxSessions = 2 }, "0.1.0", NullLogger.Instance);
        foreach (var t in tools) server.Add(t);
        return server;
    }

    private static McpRequest Request(string json)
    {
        var root = JsonDocument.Parse(json).RootElement.Clone();
        return new McpRequest(root.GetProperty("id"), root.GetProperty("method").GetString()!,
            root.TryGetProperty("params", out var p) ? p : default);
    }

    private static JsonElement Parse(McpPayload? payload) => JsonDocument.Parse(payload!.Data).RootElement.Clone();

    private static string Init(string version) =>
        $"{{\"id\":1,\"method\":\"initialize\",\"params\":{{\"protocolVersion\":\"{version}\",\"capabilities\":{{}},\"clientInfo\":{{\"name\":\"t\",\"version\":\"1\"}}}}}}";

    private static readonly McpTool Echo = McpTool.Create("echo", "Echo", "Returns its code.", McpToolJson.Default.RunPythonArguments,
        McpToolAnnotations.Reads, (args, call, ct) => ValueTask.FromResult(McpToolResult.Text(args.Code)));

    private static readonly McpTool Fails = new("fails", "Fails", "Throws.", () => new System.Text.Json.Nodes.JsonObject { ["type"] = "object" },
        McpToolAnnotations.Reads, (call, ct) => throw new InvalidOperationException("boom"));

    [Theory]
    [InlineData("2025-11-25", "2025-11-25")]
    [InlineData("2025-06-18", "2025-06-18")]
    [InlineData("2024-01-01", "2025-11-25")]
    public async Task Initialize_answers_a_supported_revision_or_the_current_one(string asked, string answered)
    {
        await using var server = Server();
        var (session, response) = server.Initialize(Request(Init(asked)));
        Assert.Equal(answered, Parse(response).GetProperty("result").GetProperty("protocolVersion").GetString());
        Assert.Equal(32, session.Id.Length);
    }

    [Fact]
    public async Task Sessions_beyond_the_limit_are_refused()
    {
        await using var server = Server();
        server.Initialize(Request(Init("2025-11-25")));
        server.Initialize(Request(Init("2025-11-25")));
        Assert.Throws<McpProtocolException>(() => server.Initialize(Request(Init("2025-11-25"))));
    }

    [Fact]
    public async Task Tool_schema_is_exported_from_the_contract_type_with_descriptions()
    {
        await using var server = Server(Echo);
        var (session, _) = server.Initialize(Request(Init("2025-11-25")));
        var list = Parse(await server.HandleAsync(session, Request("{\"id\":2,\"method\":\"tools/list\"}"), null, default));
        var tool = list.GetProperty("result").GetProperty("tools")[0];
        var schema = tool.GetProperty("inputSchema");
        Assert.Equal("object", schema.GetProperty("type").GetString());
        Assert.Equal(["code"], schema.GetProperty("required").EnumerateArray().Select(e => e.GetString()));
        Assert.Contains("Python", schema.GetProperty("properties").GetProperty("code").GetProperty("description").GetString());
        Assert.True(schema.GetProperty("properties").TryGetProperty("timeout_seconds", out _));
        Assert.True(tool.GetProperty("annotations").GetProperty("readOnlyHint").GetBoolean());
    }

    [Fact]
    public async Task Bad_arguments_and_failing_tools_are_tool_errors_unknown_tools_and_methods_protocol_errors()
    {
        await using var server = Server(Echo, Fails);
        var (session, _) = server.Initialize(Request(Init("2025-11-25")));
        async Task<JsonElement> Call(string json) => Parse(await server.HandleAsync(session, Request(json), null, default));

        var ok = await Call("{\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":\"echo\",\"arguments\":{\"code\":\"hi\"}}}");
        Assert.False(ok.GetProperty("result").GetProperty("isError").GetBoolean());
        Assert.Equal("hi", ok.GetProperty("result").GetProperty("content")[0].GetProperty("text").GetString());

        var wrong = await Call("{\"id\":4,\"method\":\"tools/call\",\"params\":{\"name\":\"echo\",\"arguments\":{\"code\":5}}}");
        Assert.True(wrong.GetProperty("result").GetProperty("isError").GetBoolean());
        var extra = await Call("{\"id\":5,\"method\":\"tools/call\",\"params\":{\"name\":\"echo\",\"arguments\":{\"code\":\"x\",\"nope\":1}}}");
        Assert.True(extra.GetProperty("result").GetProperty("isError").GetBoolean());
        var boom = await Call("{\"id\":6,\"method\":\"tools/call\",\"params\":{\"name\":\"fails\"}}");
        Assert.True(boom.GetProperty("result").GetProperty("isError").GetBoolean());
        Assert.Contains("boom", boom.GetProperty("result").GetProperty("content")[0].GetProperty("text").GetString());

        Assert.Equal(-32602, (await Call("{\"id\":7,\"method\":\"tools/call\",\"params\":{\"name\":\"nope\"}}")).GetProperty("error").GetProperty("code").GetInt32());
        Assert.Equal(-32602, (await Call("{\"id\":8,\"method\":\"tools/call\",\"params\":{\"name\":\"echo\",\"arguments\":[1]}}")).GetProperty("error").GetProperty("code").GetInt32());
        Assert.Equal(-32601, (await Call("{\"id\":9,\"method\":\"nope/nope\"}")).GetProperty("error").GetProperty("code").GetInt32());
        Assert.Equal(-32002, (await Call("{\"id\":10,\"method\":\"resources/read\",\"params\":{\"uri\":\"screen://x\"}}")).GetProperty("error").GetProperty("code").GetInt32());
        Assert.Equal("\"id-11\"", (await Call("{\"id\":\"id-11\",\"method\":\"ping\"}")).GetProperty("id").GetRawText());
    }

    [Fact]
    public async Task Cancelled_notification_cancels_the_request_and_no_response_is_made()
    {
        var started = new TaskCompletionSource();
        var slow = new McpTool("slow", "Slow", "Waits.", () => new System.Text.Json.Nodes.JsonObject { ["type"] = "object" }, McpToolAnnotations.Reads,
            async (call, ct) => { started.SetResult(); await Task.Delay(Timeout.Infinite, ct); return McpToolResult.Text("never"); });
        await using var server = Server(slow);
        var (session, _) = server.Initialize(Request(Init("2025-11-25")));
        var call = server.HandleAsync(session, Request("{\"id\":12,\"method\":\"tools/call\",\"params\":{\"name\":\"slow\"}}"), null, default);
        await started.Task.WaitAsync(TimeSpan.FromSeconds(30));
        server.Notify(session, "notifications/cancelled", JsonDocument.Parse("{\"requestId\":12}").RootElement);
        Assert.Null(await call.WaitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task Recording_resources_resolve_only_plain_names_in_the_directory()
    {
        var dir = Directory.CreateTempSubdirectory("mcp-rec-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "actions-1.json"), "[]");
            File.WriteAllText(Path.Combine(dir, "notes.txt"), "x");
            var r = new RecordingResources(dir, new McpOptions());
            Assert.Equal(["recording://actions-1.json"], r.List().Select(x => x.Uri));
            Assert.Equal("[]", (await r.ReadAsync("recording://actions-1.json", default)).Text);
            foreach (var bad in new[] { "recording://../x.json", "recording://notes.txt", "recording://a/b.json", "recording://" })
                await Assert.ThrowsAsync<Sandbox.Common.SandboxException>(async () => await r.ReadAsync(bad, default));
        }
        finally { Directory.Delete(dir, true); }
    }
}
