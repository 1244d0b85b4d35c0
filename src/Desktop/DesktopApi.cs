using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Sandbox.Common;
using Sandbox.Web;

namespace Sandbox.Desktop;

/// <summary><c>GET /windows</c>, <c>GET /windows/active</c>, <c>POST /windows/{id}/{action}</c> (docs/desktop.md).</summary>
internal static class DesktopApi
{
    public static IEndpointRouteBuilder MapDesktopApi(this IEndpointRouteBuilder app, DesktopService desktop, WaitService waits, AppLauncher apps)
    {
        app.MapPost("/apps/launch", async Task<IResult> (HttpContext http) =>
        {
            var request = await JsonBody.ReadAsync(http.Request, DesktopJson.Default.LaunchRequest, ct: http.RequestAborted);
            return Results.Json(await apps.LaunchAsync(request!, http.RequestAborted), DesktopJson.Default.LaunchAnswer);
        });
        app.MapPost("/wait", async Task<IResult> (HttpContext http) =>
        {
            var request = await JsonBody.ReadAsync(http.Request, DesktopJson.Default.WaitRequest, ct: http.RequestAborted);
            return Results.Json(await waits.WaitAsync(request!, http.RequestAborted), DesktopJson.Default.WaitAnswer);
        });
        app.MapGet("/windows", () => Results.Json(desktop.List(), DesktopJson.Default.WindowListAnswer));
        app.MapGet("/windows/active", () => desktop.Active() is { } active
            ? Results.Json(active, DesktopJson.Default.WindowInfo)
            : Results.NoContent());
        app.MapGet("/windows/{id}", (string id) => Results.Json(desktop.Get(ParseId(id)), DesktopJson.Default.WindowInfo));
        app.MapPost("/windows/{id}/{action}", async Task<IResult> (HttpContext http, string id, string action) =>
        {
            var window = ParseId(id);
            var what = action.ToLowerInvariant() switch
            {
                "activate" => WindowAction.Activate,
                "close" => WindowAction.Close,
                "minimize" => WindowAction.Minimize,
                "maximize" => WindowAction.Maximize,
                "restore" => WindowAction.Restore,
                "fullscreen" => WindowAction.Fullscreen,
                "move" => WindowAction.Move,
                "resize" => WindowAction.Resize,
                _ => throw SandboxException.NotFound($"{action}: expected activate, close, minimize, maximize, restore, fullscreen, move or resize"),
            };
            WindowMove? move = null;
            if (what is WindowAction.Move or WindowAction.Resize)
            {
                move = await JsonBody.ReadAsync(http.Request, DesktopJson.Default.WindowMove, ct: http.RequestAborted);
                if (what == WindowAction.Move && (move!.X is null || move.Y is null))
                    throw SandboxException.BadField("body", "move needs integer x and y");
                if (what == WindowAction.Resize && (move!.Width is not > 0 || move.Height is not > 0))
                    throw SandboxException.BadField("body", "resize needs positive integer width and height");
                move = what == WindowAction.Move ? move! with { Width = null, Height = null } : move! with { X = null, Y = null };
            }
            return Results.Json(desktop.Act(window, what, move), DesktopJson.Default.WindowActionAnswer);
        });
        return app;
    }

    /// <summary>A window id as xdotool prints it (decimal) or as xprop/wmctrl do (0x hex).</summary>
    internal static ulong ParseId(string id)
    {
        var ok = id.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? ulong.TryParse(id.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var v)
            : ulong.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out v);
        if (!ok || v == 0 || v > uint.MaxValue) throw SandboxException.BadField("id", $"id={id}: expected a window id (decimal or 0x hex)");
        return v;
    }
}
