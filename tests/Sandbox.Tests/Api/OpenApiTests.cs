using System.Collections;
using System.Text.Json;
using Microsoft.AspNetCore.Routing;
using Sandbox.Api;
using Sandbox.Hosting;

namespace Sandbox.Tests.Api;

/// <summary>The route table behind /openapi.json against the endpoints the appliance really maps.</summary>
public sealed class OpenApiTests
{
    private static async Task<HashSet<(string Method, string Path)>> MappedRoutes(Hashtable env)
    {
        env["HOST"] = "127.0.0.1";
        env["PORT"] = "65001"; // never bound: the app is built, not run
        await using var appliance = Appliance.Build(SandboxOptions.FromEnvironment(env));
        return OpenApiDocument.MappedRoutes(appliance.Api);
    }

    [Fact]
    public async Task Every_mapped_endpoint_is_documented_and_every_documented_route_is_mapped()
    {
        var mapped = await MappedRoutes(new Hashtable());
        var documented = OpenApiRoutes.All.Select(r => (r.Method, r.Path)).ToHashSet();
        Assert.Empty(mapped.Except(documented));
        Assert.Empty(documented.Except(mapped));
    }

    [Fact]
    public async Task Document_lists_only_what_is_mapped_and_its_schemas_resolve()
    {
        var mapped = await MappedRoutes(new Hashtable { ["SANDBOX_VIEW"] = "false" });
        Assert.DoesNotContain(mapped, r => r.Path.StartsWith("/view", StringComparison.Ordinal));

        using var doc = JsonDocument.Parse(OpenApiDocument.Build(mapped));
        var root = doc.RootElement;
        Assert.Equal("3.1.0", root.GetProperty("openapi").GetString());
        var paths = root.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToHashSet();
        Assert.Equal(mapped.Select(m => m.Path).ToHashSet(), paths);

        // Every $ref points at a schema in components, and payload property names are the wire's (snake_case).
        var schemas = root.GetProperty("components").GetProperty("schemas");
        var text = root.GetRawText();
        foreach (var r in System.Text.RegularExpressions.Regex.Matches(text, "\"\\$ref\": \"([^\"]*)\"").Select(m => m.Groups[1].Value))
        {
            Assert.StartsWith("#/components/schemas/", r);
            var target = root;
            foreach (var token in r[2..].Split('/'))
                Assert.True(target.TryGetProperty(token, out target), $"$ref {r} does not resolve");
        }
        var screenshot = schemas.GetProperty("ScreenshotAnswer").GetProperty("properties");
        Assert.True(screenshot.TryGetProperty("screenshot_path", out _));
        Assert.True(screenshot.TryGetProperty("mouse_position", out _));
    }

    [Fact]
    public void The_screenshot_parameters_documented_are_the_ones_the_parser_reads()
    {
        Assert.Equal(Sandbox.Capture.ScreenshotRequest.ParameterNames.Order(), OpenApiRoutes.ScreenshotParameters.Select(p => p.Name).Order());
    }

    [Fact]
    public void Every_documented_route_has_responses_and_a_summary()
    {
        Assert.All(OpenApiRoutes.All, r =>
        {
            Assert.NotEmpty(r.Responses);
            Assert.False(string.IsNullOrWhiteSpace(r.Summary), r.Path);
            Assert.StartsWith("/", r.Path);
        });
    }

    [Fact]
    public void Action_schema_documents_the_element_target_for_rest_and_the_mcp_tool()
    {
        var element = OpenApiRoutes.ActionSchema()["properties"]!["element"]!;
        Assert.Equal("integer", (string?)element["type"]);
        Assert.Contains("accessibility", (string?)element["description"]);
        // The MCP computer tool's schema is built from the same table (single actions and batch items).
        var tool = new Sandbox.Mcp.ComputerTools(null!).Tools.Single();
        var json = tool.InputSchema.ToJsonString();
        Assert.Equal(2, System.Text.RegularExpressions.Regex.Matches(json, "\"element\"").Count);
    }
}
