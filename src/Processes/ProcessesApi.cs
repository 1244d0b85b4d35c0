using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Sandbox.Web;

namespace Sandbox.Processes;

/// <summary>The /process routes (docs/processes.md).</summary>
internal static partial class ProcessesApi
{
    public static IEndpointRouteBuilder MapProcessesApi(this IEndpointRouteBuilder app, ProcessService service)
    {
        app.MapPost("/process/run", async Task<IResult> (HttpContext http) =>
        {
            var request = (await JsonBody.ReadAsync(http.Request, ProcessesJson.Default.RunRequest, ct: http.RequestAborted))!;
            var result = await service.RunAsync(request, http.RequestAborted);
            // Serialized whole (the output is in memory anyway): the answer goes out with a Content-Length in one
            // send, where a streamed one would be chunked and end with a second send.
            return Results.Bytes(JsonSerializer.SerializeToUtf8Bytes(result, ProcessesJson.Default.RunResult), "application/json; charset=utf-8");
        });
        MapBackground(app, service);
        return app;
    }

    static partial void MapBackground(IEndpointRouteBuilder app, ProcessService service);
}
