using System.Text.Json.Serialization;

namespace Sandbox.Mcp;

internal sealed record McpImplementation(string Name, string Version, string? Title = null);

internal sealed record McpInitializeResult(string ProtocolVersion, McpCapabilities Capabilities, McpImplementation ServerInfo, string? Instructions);

internal sealed record McpCapabilities(McpListChanged Tools, McpResourceCapability Resources);

internal sealed record McpListChanged(bool ListChanged);

internal sealed record McpResourceCapability(bool Subscribe, bool ListChanged);

/// <summary>A resource as resources/list describes it.</summary>
internal sealed record McpResource(string Uri, string Name, string? Title, string? Description, string? MimeType, long? Size);

internal sealed record McpResourceList(McpResource[] Resources);

internal sealed record McpResourceTemplate(string UriTemplate, string Name, string? Description, string? MimeType);

internal sealed record McpResourceTemplateList(McpResourceTemplate[] ResourceTemplates);

internal sealed record McpEmpty;

/// <summary>
/// MCP's own payloads (camelCase, as the protocol spells them). Content blocks and tool results are
/// written with Utf8JsonWriter directly (images go to the wire as base64 without an intermediate string).
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(McpInitializeResult))]
[JsonSerializable(typeof(McpResourceList))]
[JsonSerializable(typeof(McpResourceTemplateList))]
[JsonSerializable(typeof(McpEmpty))]
internal sealed partial class McpJson : JsonSerializerContext;

/// <summary>Contract payloads the MCP tools return as text, in the REST API's own snake_case shape.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(Sandbox.Input.ComputerActionsAnswer))]
internal sealed partial class McpContractJson : JsonSerializerContext;
