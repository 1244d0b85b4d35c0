using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Schema;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;

namespace Sandbox.Api;

/// <summary>A documented query or path parameter.</summary>
internal sealed record ApiParameter(string Name, string Type, string Description)
{
    public string In { get; init; } = "query";
    public bool Required { get; init; }
    public string? Default { get; init; }
    public string[]? Enum { get; init; }
    public int? Minimum { get; init; }
    public int? Maximum { get; init; }
}

/// <summary>A documented answer: JSON of a source-generated type, or another content type.</summary>
internal sealed record ApiResponse(int Status, string Description)
{
    public JsonTypeInfo? Json { get; init; }
    /// <summary>Non-JSON content type (image/png, text/html …) with a free-form schema.</summary>
    public string? ContentType { get; init; }
    public string? Format { get; init; }
}

/// <summary>A documented request body.</summary>
internal sealed record ApiBody(string Description, JsonNode Schema, JsonNode? Example = null);

/// <summary>One REST endpoint as documented in /openapi.json (see <see cref="OpenApiRoutes"/>).</summary>
internal sealed record ApiRoute(string Method, string Path, string Tag, string Summary, string Description)
{
    public ApiParameter[] Parameters { get; init; } = [];
    public ApiBody? Body { get; init; }
    public ApiResponse[] Responses { get; init; } = [];
    /// <summary>Answers 101 Switching Protocols to a WebSocket upgrade.</summary>
    public bool WebSocket { get; init; }
}

/// <summary>
/// GET /openapi.json: an OpenAPI 3.1 document built from <see cref="OpenApiRoutes"/>, our explicit
/// route table, with payload schemas exported from the same source-generated JSON metadata the
/// endpoints serialize with (so names and shapes cannot drift). Only routes this appliance actually
/// mapped are listed (e.g. no live view with SANDBOX_VIEW=false). A test checks that the table covers
/// every mapped endpoint. Built once, on the first request, off the start-up path.
/// </summary>
internal static class OpenApiDocument
{
    public const string Path = "/openapi.json";

    public static IEndpointRouteBuilder MapOpenApi(this IEndpointRouteBuilder app)
    {
        var document = new Lazy<byte[]>(() => Build(MappedRoutes(app)));
        app.MapGet(Path, () => Results.Bytes(document.Value, "application/json"));
        return app;
    }

    /// <summary>(METHOD, pattern) of every endpoint mapped on <paramref name="app"/>, e.g. ("GET", "/view/assets/{name}").</summary>
    public static HashSet<(string Method, string Path)> MappedRoutes(IEndpointRouteBuilder app)
    {
        var set = new HashSet<(string, string)>();
        foreach (var source in app.DataSources)
        foreach (var e in source.Endpoints.OfType<RouteEndpoint>())
        {
            var path = "/" + (e.RoutePattern.RawText ?? "").TrimStart('/');
            var methods = e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["*"];
            foreach (var m in methods) set.Add((m, path));
        }
        return set;
    }

    public static byte[] Build(IReadOnlySet<(string Method, string Path)> mapped)
    {
        var schemas = new SortedDictionary<string, JsonNode>(StringComparer.Ordinal);
        var paths = new JsonObject();
        foreach (var route in OpenApiRoutes.All)
        {
            if (!mapped.Contains((route.Method, route.Path))) continue;
            if (paths[route.Path] is not JsonObject item) paths[route.Path] = item = new JsonObject();
            item[route.Method.ToLowerInvariant()] = Operation(route, schemas);
        }

        var components = new JsonObject();
        foreach (var (name, schema) in schemas) components[name] = schema;
        var doc = new JsonObject
        {
            ["openapi"] = "3.1.0",
            ["info"] = new JsonObject
            {
                ["title"] = "Sandbox appliance REST API",
                ["version"] = typeof(OpenApiDocument).Assembly.GetName().Version?.ToString(3) ?? "0.0.0",
                ["description"] = "REST API of the Sandbox appliance on HOST:PORT (default 8765): health, screenshots, " +
                    "computer actions, recording and the live view. Errors are JSON {\"reason\", \"message\"}. " +
                    "When the appliance is started with SANDBOX_TOKEN, every endpoint but GET /health and the live view page " +
                    "needs it (?token= or an Authorization header) and answers 401 without it. " +
                    "The Jupyter Kernel Gateway compatible API on port 8888 is documented by Jupyter's own specification.",
            },
            ["paths"] = paths,
            ["components"] = new JsonObject
            {
                ["schemas"] = components,
                ["securitySchemes"] = new JsonObject
                {
                    ["token"] = new JsonObject { ["type"] = "apiKey", ["in"] = "query", ["name"] = "token", ["description"] = "SANDBOX_TOKEN as ?token=." },
                    ["authorization"] = new JsonObject
                    {
                        ["type"] = "apiKey", ["in"] = "header", ["name"] = "Authorization",
                        ["description"] = "SANDBOX_TOKEN as 'token <token>' or 'Bearer <token>'.",
                    },
                },
            },
            // Optional ({}): only an appliance started with SANDBOX_TOKEN asks for it (401 otherwise);
            // GET /health and the live view's page shell are always open.
            ["security"] = new JsonArray(new JsonObject(), new JsonObject { ["token"] = new JsonArray() }, new JsonObject { ["authorization"] = new JsonArray() }),
        };
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
            doc.WriteTo(writer);
        return stream.ToArray();
    }

    private static JsonObject Operation(ApiRoute route, SortedDictionary<string, JsonNode> schemas)
    {
        var op = new JsonObject
        {
            ["tags"] = new JsonArray(route.Tag),
            ["summary"] = route.Summary,
            ["description"] = route.Description,
            ["operationId"] = OperationId(route),
        };
        if (route.Parameters.Length > 0)
        {
            var list = new JsonArray();
            foreach (var p in route.Parameters)
            {
                var schema = new JsonObject { ["type"] = p.Type };
                if (p.Enum is { } values) schema["enum"] = new JsonArray(values.Select(v => (JsonNode?)JsonValue.Create(v)).ToArray());
                if (p.Minimum is { } min) schema["minimum"] = min;
                if (p.Maximum is { } max) schema["maximum"] = max;
                if (p.Default is { } d) schema["default"] = p.Type switch
                {
                    "integer" => JsonValue.Create(int.Parse(d, System.Globalization.CultureInfo.InvariantCulture)),
                    "boolean" => JsonValue.Create(d == "true"),
                    _ => JsonValue.Create(d),
                };
                list.Add((JsonNode)new JsonObject
                {
                    ["name"] = p.Name,
                    ["in"] = p.In,
                    ["required"] = p.Required || p.In == "path",
                    ["description"] = p.Description,
                    ["schema"] = schema,
                });
            }
            op["parameters"] = list;
        }
        if (route.Body is { } body)
        {
            var media = new JsonObject { ["schema"] = body.Schema.DeepClone() };
            if (body.Example is { } ex) media["example"] = ex.DeepClone();
            op["requestBody"] = new JsonObject
            {
                ["required"] = true,
                ["description"] = body.Description,
                ["content"] = new JsonObject { ["application/json"] = media },
            };
        }
        var responses = new JsonObject();
        foreach (var r in route.Responses)
        {
            var response = new JsonObject { ["description"] = r.Description };
            if (r.Json is { } info)
            {
                response["content"] = new JsonObject
                {
                    ["application/json"] = new JsonObject { ["schema"] = SchemaRef(info, schemas) },
                };
            }
            else if (r.ContentType is { } type)
            {
                var schema = new JsonObject { ["type"] = "string" };
                if (r.Format is { } f) schema["format"] = f;
                response["content"] = new JsonObject { [type] = new JsonObject { ["schema"] = schema } };
            }
            responses[r.Status.ToString(System.Globalization.CultureInfo.InvariantCulture)] = response;
        }
        op["responses"] = responses;
        return op;
    }

    /// <summary>A $ref to the payload's schema in components, exported from its source-generated metadata.</summary>
    private static JsonNode SchemaRef(JsonTypeInfo info, SortedDictionary<string, JsonNode> schemas)
    {
        if (info.Kind == JsonTypeInfoKind.Enumerable && info.ElementType is { } element)
            return new JsonObject { ["type"] = "array", ["items"] = SchemaRef(info.Options.GetTypeInfo(element), schemas) };
        var name = info.Type.Name;
        if (!schemas.ContainsKey(name))
        {
            var schema = JsonSchemaExporter.GetJsonSchemaAsNode(info, new JsonSchemaExporterOptions { TreatNullObliviousAsNonNullable = true });
            Rebase(schema, "#/components/schemas/" + name);
            schemas[name] = schema;
        }
        return new JsonObject { ["$ref"] = "#/components/schemas/" + name };
    }

    /// <summary>
    /// The exporter points repeated types at their first occurrence relative to its own root
    /// (<c>#/properties/a/properties/b</c>); under components that root is the schema's own path.
    /// </summary>
    private static void Rebase(JsonNode? node, string root)
    {
        switch (node)
        {
            case JsonObject o:
                if (o["$ref"] is JsonValue v && v.TryGetValue<string>(out var r) && r.StartsWith('#'))
                    o["$ref"] = root + r[1..];
                foreach (var (_, child) in o.ToArray()) Rebase(child, root);
                break;
            case JsonArray a:
                foreach (var child in a) Rebase(child, root);
                break;
        }
    }

    private static string OperationId(ApiRoute route)
    {
        var parts = route.Path.Split('/', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Trim('{', '}').Replace(".", "_", StringComparison.Ordinal).Replace("_", " ", StringComparison.Ordinal))
            .SelectMany(p => p.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Select(p => char.ToUpperInvariant(p[0]) + p[1..]);
        var tail = string.Concat(parts);
        return route.Method.ToLowerInvariant() + (tail.Length == 0 ? "Root" : tail);
    }
}
