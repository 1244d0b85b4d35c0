using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Sandbox.Api;
using Sandbox.Capture;
using Sandbox.Display;
using Sandbox.Gateway;
using Sandbox.LiveView;
using Sandbox.Recording;
using Sandbox.Web;
using Sandbox.Common;

namespace Sandbox.Hosting;

internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        SandboxOptions options;
        GatewayOptions gatewayOptions;
        var env = Environment.GetEnvironmentVariables();
        try
        {
            var errors = new List<string>();
            options = Collect(errors, () => SandboxOptions.FromEnvironment(env))!;
            gatewayOptions = Collect(errors, () => GatewayOptions.FromEnvironment(env))!;
            if (errors.Count > 0) throw new OptionsException(errors);
        }
        catch (OptionsException e)
        {
            foreach (var error in e.Errors) Console.Error.WriteLine($"sandbox: {error}");
            return 2;
        }

        // The kernel gateway is a second listener; it binds alongside the REST app and prespawns kernels
        // in the background. Disposed after the REST app, so no kernel outlives the appliance.
        await using var gateway = new GatewayService(gatewayOptions, env);
        AppDomain.CurrentDomain.UnhandledException += (_, _) => gateway.KillEverything();
        await using var appliance = Appliance.Build(args, options, gateway);
        var gatewayStart = gateway.StartAsync();
        await appliance.RunAsync();
        await gatewayStart;
        return 0;
    }

    private static T? Collect<T>(List<string> errors, Func<T> read) where T : class
    {
        try { return read(); }
        catch (OptionsException e) { errors.AddRange(e.Errors); return null; }
    }
}

/// <summary>
/// The REST appliance on HOST:PORT and the areas behind it. Sockets are bound first; the X connection
/// is opened in the background so nothing slow sits on the start-up path.
/// </summary>
internal sealed class Appliance : IAsyncDisposable
{
    private readonly ScreenCapture _capture;
    private readonly Recorder _recorder;
    private readonly LiveViewHub? _liveView;

    private Appliance(WebApplication api, ScreenCapture capture, Recorder recorder, LiveViewHub? liveView, SandboxOptions options)
    {
        Api = api;
        _capture = capture;
        _recorder = recorder;
        _liveView = liveView;
        Options = options;
    }

    public WebApplication Api { get; }
    public SandboxOptions Options { get; }

    public static Appliance Build(string[] args, SandboxOptions options, GatewayService? gateway = null)
    {
        var builder = WebApplication.CreateSlimBuilder(BuilderDefaults.Options(args));
        builder.WebHost.UseKestrelCore().ConfigureKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes;
            k.AddServerHeader = false;
        });
        builder.WebHost.UseUrls($"http://{HostForUrl(options.Host)}:{options.Port}");
        // ASP.NET's per-request Information lines would log every URL, ?token= included, five lines per request
        // into a log that runs unattended for weeks; its warnings and errors, and the lifetime lines, stay.
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, AppJson.Default));
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Add(Sandbox.Clipboard.ClipboardJson.Default));
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Add(Sandbox.Desktop.DesktopJson.Default));

        var app = builder.Build();
        var logs = app.Services.GetRequiredService<ILoggerFactory>();
        var captureConnection = new XDisplayConnection(options.Display, "capture", logs.CreateLogger("Sandbox.Display"));
        var capture = new ScreenCapture(captureConnection, options.UseSharedMemory, options.DisplayTimeoutMs, logs.CreateLogger("Sandbox.Capture"));
        var screenshots = new ScreenshotService(capture, options, logs.CreateLogger<ScreenshotService>());

        var activity = new ActivityFeed();

        // Routing first so the guard sees each endpoint's declared upload types; the guard before the token.
        app.UseRouting();
        app.UseRequestGuard(new GuardPolicy(options.AllowHosts, options.AllowOrigins), logs.CreateLogger("Sandbox.Web"));
        app.UseTokenAuth(options.Token);
        app.UseJsonErrors(logs.CreateLogger("Sandbox.Api"));
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.FromSeconds(30) });
        var recorder = new Recorder(options, logs, activity);
        app.MapHealthApi(new HealthSources(captureConnection, gateway, recorder));
        app.MapScreenshotApi(screenshots, options);
        app.MapRecordApi(recorder);
        var computer = app.MapComputerApi(screenshots, options, activity);

        LiveViewHub? liveView = null;
        if (options.LiveView.Enabled)
        {
            // Its own X connection: streaming never waits on (or delays) screenshots and actions.
            var viewConnection = new XDisplayConnection(options.Display, "liveview", logs.CreateLogger("Sandbox.Display"));
            liveView = new LiveViewHub(viewConnection, options, activity, logs)
            {
                Forwarder = (action, ct) => ComputerApi.ForwardAsync(computer, action, ct),
            };
            app.MapLiveViewApi(liveView);
            app.Lifetime.ApplicationStopping.Register(liveView.CloseViewers);
        }
        // --- Clipboard ---
        // Its own X connection and thread: the owner must answer other clients at any time.
        var clipboard = new Sandbox.Clipboard.ClipboardService(
            new XDisplayConnection(options.Display, "clipboard", logs.CreateLogger("Sandbox.Display")), options.Clipboard,
            logs.CreateLogger("Sandbox.Clipboard"));
        Sandbox.Clipboard.ClipboardApi.MapClipboardApi(app, clipboard);
        app.Lifetime.ApplicationStopped.Register(clipboard.Dispose);
        // --- end Clipboard ---
        // --- Desktop ---
        var desktop = new Sandbox.Desktop.DesktopService(
            new XDisplayConnection(options.Display, "desktop", logs.CreateLogger("Sandbox.Display")), options.Desktop);
        var waits = new Sandbox.Desktop.WaitService(
            new XDisplayConnection(options.Display, "wait", logs.CreateLogger("Sandbox.Display")), desktop, options.Desktop);
        // Launched applications are spawned like kernels: own process group, reaped by the appliance.
        var apps = new Sandbox.Desktop.AppLauncher(desktop, async (file, argv, env) =>
            (await ChildProcess.StartAsync(new ChildStart(file, argv, env, null, null))).Pid, options.Display, options.Desktop);
        Sandbox.Desktop.DesktopApi.MapDesktopApi(app, desktop, waits, apps);
        app.Lifetime.ApplicationStopped.Register(desktop.Dispose);
        app.Lifetime.ApplicationStopped.Register(waits.Dispose);
        // --- end Desktop ---
        app.MapOpenApi();

        app.Lifetime.ApplicationStarted.Register(() =>
            _ = Task.Run(() => captureConnection.TryConnect(options.DisplayTimeoutMs)));
        // Journals a killed process left open get their actions and footer, off the start-up path.
        app.Lifetime.ApplicationStarted.Register(() => _ = Task.Run(recorder.RecoverUnfinished));
        // SIGTERM: a running recording is finished (actions written, video closed) before the process exits.
        app.Lifetime.ApplicationStopping.Register(recorder.Shutdown);
        return new Appliance(app, capture, recorder, liveView, options);
    }

    public Task RunAsync() => Api.RunAsync();

    public async ValueTask DisposeAsync()
    {
        await Api.DisposeAsync();
        _liveView?.Dispose();
        _recorder.Dispose();
        _capture.Dispose();
    }

    internal static string HostForUrl(string host) =>
        host is "0.0.0.0" or "*" ? "0.0.0.0" : host.Contains(':') && !host.StartsWith('[') ? $"[{host}]" : host;
}
