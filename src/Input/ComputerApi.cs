using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Sandbox.Capture;
using Sandbox.Display;
using Sandbox.Common;
using Sandbox.Web;
using System.Text.Json.Serialization;

namespace Sandbox.Input;

internal sealed record ActionResultAnswer(
    int Index,
    string Action,
    string Status,
    string? Error,
    int[]? Coordinate,
    int[]? ScreenCoordinate,
    ScreenshotAnswer? Screenshot);

/// <summary>POST /computer/action: the one action's result, flattened.</summary>
internal sealed record ComputerActionAnswer(
    string Status,
    string Action,
    string? Reason,
    string? Message,
    int[]? Coordinate,
    int[]? ScreenCoordinate,
    ScreenshotAnswer? Screenshot,
    ScreenshotAnswer? ScreenshotAfter,
    int[] ScreenSize,
    double ElapsedMs);

/// <summary>POST /computer/actions: a result per action (ok, error, skipped) and, on failure, which one failed.</summary>
internal sealed record ComputerActionsAnswer(
    string Status,
    string? Reason,
    string? Message,
    int? FailedIndex,
    ActionResultAnswer[] Results,
    ScreenshotAnswer? ScreenshotAfter,
    int[] ScreenSize,
    double ElapsedMs);

/// <summary>
/// Native computer-use actions over XTEST (README "Computer actions"). Bad requests are 400 before
/// anything runs; an action that fails while running stops the batch and is answered with its status
/// (400 for off-screen points and the like) and the results so far; a lost display is 503.
/// While a recording runs, every request that ran (its answer included a failure or not) is reported to the step
/// journal as the action JSON the client sent and the answer without base64 images; requests refused before
/// anything ran (400 bad request, 503) are not steps.
/// </summary>
internal static class ComputerApi
{
    private const int MaxJsonDepth = 16;

    /// <param name="steps">Where each request is reported while a recording runs (<see cref="NoStepJournal"/> when none keeps them).</param>
    public static void MapComputerApi(this IEndpointRouteBuilder app, ComputerService service, IStepJournal? steps = null)
    {
        steps ??= NoStepJournal.Instance;
        app.MapPost("/computer/action", async Task<IResult> (HttpContext http) =>
        {
            using var body = await ReadBody(http);
            var batch = Parse(() => service.Parser.ParseSingle(body.RootElement));
            var outcome = await service.RunAsync(batch, http.RequestAborted);
            if (steps.Active)
                await steps.AddAsync("computer", body.RootElement.GetRawText(),
                    JsonSerializer.Serialize(SingleAnswer(outcome, withImages: false), InputJson.Default.ComputerActionAnswer), http.RequestAborted);
            return Results.Json(SingleAnswer(outcome, withImages: true), InputJson.Default.ComputerActionAnswer, statusCode: outcome.Failure?.Status ?? 200);
        });

        app.MapPost("/computer/actions", async Task<IResult> (HttpContext http) =>
        {
            using var body = await ReadBody(http);
            var batch = Parse(() => service.Parser.ParseBatch(body.RootElement));
            var outcome = await service.RunAsync(batch, http.RequestAborted);
            if (steps.Active)
                await steps.AddAsync("computer", body.RootElement.GetRawText(),
                    JsonSerializer.Serialize(Answer(outcome, withImages: false), InputJson.Default.ComputerActionsAnswer), http.RequestAborted);
            return Results.Json(Answer(outcome, withImages: true), InputJson.Default.ComputerActionsAnswer, statusCode: outcome.Failure?.Status ?? 200);
        });
    }

    /// <summary>POST /computer/action's answer: the one action's result, flattened.</summary>
    private static ComputerActionAnswer SingleAnswer(BatchOutcome outcome, bool withImages)
    {
        var r = outcome.Results[0];
        return new ComputerActionAnswer(
            outcome.Failure is null ? "ok" : "error",
            r.Action,
            outcome.Failure is { } f ? Reason(f.Status) : null,
            outcome.Failure?.Message,
            Pair(r.Coordinate),
            Pair(r.ScreenCoordinate),
            Shot(r.Screenshot, withImages),
            Shot(outcome.ScreenshotAfter, withImages),
            [outcome.ScreenWidth, outcome.ScreenHeight],
            outcome.ElapsedMs);
    }

    private static async Task<JsonDocument> ReadBody(HttpContext http)
    {
        try
        {
            var doc = await JsonDocument.ParseAsync(http.Request.Body, new JsonDocumentOptions { MaxDepth = MaxJsonDepth }, http.RequestAborted);
            try { RequireValidStrings(doc.RootElement); }
            catch { doc.Dispose(); throw; }
            return doc;
        }
        catch (JsonException e)
        {
            throw SandboxException.BadRequest($"body: not valid JSON ({e.Message})");
        }
    }

    /// <summary>
    /// The JSON reader accepts an escaped unpaired surrogate (<c>"\ud800"</c>) and only fails when the string is
    /// read, deep in the parser, with an InvalidOperationException; found by the fuzz test. Checked once here,
    /// so every later GetString is safe and the client gets a 400 naming the problem.
    /// </summary>
    private static void RequireValidStrings(JsonElement e)
    {
        try
        {
            switch (e.ValueKind)
            {
                case JsonValueKind.String:
                    _ = e.GetString();
                    break;
                case JsonValueKind.Array:
                    foreach (var item in e.EnumerateArray()) RequireValidStrings(item);
                    break;
                case JsonValueKind.Object:
                    foreach (var p in e.EnumerateObject())
                    {
                        _ = p.Name;
                        RequireValidStrings(p.Value);
                    }
                    break;
            }
        }
        catch (InvalidOperationException)
        {
            throw SandboxException.BadRequest("body: a string is not valid UTF-16 (an escaped unpaired surrogate such as \\ud800)");
        }
    }

    private static ActionBatch Parse(Func<ActionBatch> parse)
    {
        try { return parse(); }
        catch (ActionInputException e) { throw SandboxException.BadRequest(e.Message); }
    }

    /// <summary>A batch's answer, as /computer/actions gives it and the MCP computer tool reports it (without the
    /// base64 images, which MCP sends as image content).</summary>
    internal static ComputerActionsAnswer Answer(BatchOutcome outcome, bool withImages) => new(
        outcome.Failure is null ? "ok" : "error",
        outcome.Failure is { } f ? Reason(f.Status) : null,
        outcome.Failure?.Message,
        outcome.Failure?.Index,
        outcome.Results.Select(r => new ActionResultAnswer(r.Index, r.Action, r.Status switch
        {
            ActionStatus.Ok => "ok",
            ActionStatus.Error => "error",
            _ => "skipped",
        }, r.Error, Pair(r.Coordinate), Pair(r.ScreenCoordinate), Shot(r.Screenshot, withImages))).ToArray(),
        Shot(outcome.ScreenshotAfter, withImages),
        [outcome.ScreenWidth, outcome.ScreenHeight],
        outcome.ElapsedMs);

    private static string Reason(int status) => ErrorResults.ReasonPhrase(status);

    private static int[]? Pair((int X, int Y)? p) => p is { } v ? [v.X, v.Y] : null;

    private static ScreenshotAnswer? Shot(ShotResult? s, bool withImage = true) => s is null ? null : new ScreenshotAnswer(
        s.Path, s.Info.MousePosition, s.Info.ScreenSize, s.Info.ImageSize, s.Info.Scale, s.Info.Region,
        s.Info.Format, s.Info.Bytes, withImage ? s.Base64 : null);
}

/// <summary>The action API's JSON answers.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ComputerActionAnswer))]
[JsonSerializable(typeof(ComputerActionsAnswer))]
internal sealed partial class InputJson : JsonSerializerContext;
