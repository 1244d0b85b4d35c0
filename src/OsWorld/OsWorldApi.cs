using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Sandbox.Desktop;
using Sandbox.Web;

namespace Sandbox.OsWorld;

/// <summary>Every route of OSWorld's in-VM server, on the OSWorld listener (docs/osworld.md).</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
internal static class OsWorldApi
{
    /// <summary>Form bodies (requests' <c>data=</c>) on /file and /window_size, multipart on /setup/upload.</summary>
    private static readonly BodyTypes Forms = new("application/x-www-form-urlencoded", "multipart/form-data");

    public static IEndpointRouteBuilder MapOsWorldApi(this IEndpointRouteBuilder app, OsWorldAdapter osworld)
    {
        app.MapGet("/screenshot", osworld.ScreenshotAsync);
        app.MapGet("/accessibility", Task<IResult> (HttpContext h) => osworld.AccessibilityAsync(h));
        app.MapGet("/terminal", Task<IResult> (HttpContext h) => osworld.TerminalAsync(h));
        app.MapGet("/platform", () => OsWorldAdapter.Text("Linux"));
        app.MapGet("/cursor_position", () => osworld.CursorPosition());
        app.MapPost("/screen_size", () => osworld.ScreenSize());
        app.MapPost("/window_size", Task<IResult> (HttpContext h) => osworld.WindowSizeAsync(h)).WithMetadata(Forms);
        app.MapPost("/desktop_path", () => osworld.DesktopPath());
        app.MapPost("/wallpaper", Task<IResult> (HttpContext h) => osworld.WallpaperAsync(h));
        app.MapPost("/list_directory", Task<IResult> (HttpContext h) => osworld.ListDirectoryAsync(h));
        app.MapPost("/file", Task<IResult> (HttpContext h) => osworld.FileAsync(h)).WithMetadata(Forms);

        app.MapPost("/execute", Task<IResult> (HttpContext h) => osworld.ExecuteAsync(h, "/execute"));
        app.MapPost("/setup/execute", Task<IResult> (HttpContext h) => osworld.ExecuteAsync(h, "/setup/execute"));
        app.MapPost("/execute_with_verification", Task<IResult> (HttpContext h) => osworld.ExecuteVerifiedAsync(h, "/execute_with_verification"));
        app.MapPost("/setup/execute_with_verification", Task<IResult> (HttpContext h) => osworld.ExecuteVerifiedAsync(h, "/setup/execute_with_verification"));
        app.MapPost("/run_python", Task<IResult> (HttpContext h) => osworld.RunPythonAsync(h));
        app.MapPost("/run_bash_script", Task<IResult> (HttpContext h) => osworld.RunBashAsync(h));

        app.MapPost("/setup/launch", Task<IResult> (HttpContext h) => osworld.LaunchAsync(h));
        app.MapPost("/setup/upload", Task<IResult> (HttpContext h) => osworld.UploadAsync(h)).WithMetadata(Forms);
        app.MapPost("/setup/download_file", Task<IResult> (HttpContext h) => osworld.DownloadAsync(h));
        app.MapPost("/setup/open_file", Task<IResult> (HttpContext h) => osworld.OpenFileAsync(h));
        app.MapPost("/setup/activate_window", Task<IResult> (HttpContext h) => osworld.WindowActionAsync(h, WindowAction.Activate));
        app.MapPost("/setup/close_window", Task<IResult> (HttpContext h) => osworld.WindowActionAsync(h, WindowAction.Close));
        app.MapPost("/setup/change_wallpaper", Task<IResult> (HttpContext h) => osworld.ChangeWallpaperAsync(h));

        app.MapPost("/start_recording", Task<IResult> () => osworld.StartRecordingAsync());
        app.MapPost("/end_recording", Task<IResult> () => osworld.EndRecordingAsync());
        return app;
    }
}
