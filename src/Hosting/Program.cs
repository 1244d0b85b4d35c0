using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Sandbox.Api;
using Sandbox.Capture;
using Sandbox.Display;
using Sandbox.Fleet;
using Sandbox.Gateway;
using Sandbox.Input;
using Sandbox.Mcp;
using Sandbox.Files;
using Sandbox.LiveView;
using Sandbox.Processes;
using Sandbox.Recording;
using Sandbox.Web;
using Sandbox.Common;

namespace Sandbox.Hosting;

internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        StartupTrace.Mark("main");
        StartupHeap.Begin(); // no collection before the first answer (ends with the start-up gate, below)
        StartupTypes.Keep(args.Length == int.MaxValue); // never runs: compiles DI's start-up generics in (cold start)
        // Settings come from the environment (docs/configuration.md); the command line only asks for help.
        switch (Cli.Parse(args))
        {
            case CliCommand.Help: Cli.PrintHelp(Console.Out); return 0;
            case CliCommand.Version: Console.Out.WriteLine($"sandbox {Cli.Version}"); return 0;
            case CliCommand.Invalid: Console.Error.WriteLine($"sandbox: unknown argument '{args[0]}' (try --help)"); return 2;
        }
        SandboxOptions options;
        GatewayOptions gatewayOptions;
        var env = Environment.GetEnvironmentVariables();
        // --- Fleet --- container sizing: a default the operator did not set follows the cgroup's memory limit.
        if (env["KG_PRESPAWN_COUNT"] is null
            && ContainerLimits.Read(env["SANDBOX_FLEET_CGROUP_ROOT"] as string ?? "/sys/fs/cgroup").KernelPoolCap < 1)
            env["KG_PRESPAWN_COUNT"] = "0";
        // --- Systemd: sd_notify under a Type=notify unit (its variables are kept from children) ---
        using var systemd = SystemdNotify.FromEnvironment(env);
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

        StartupTrace.Mark("options");
        MallocTuning.Apply(options.Memory.MallocMmapThreshold, env);
        // Everything written below SHARED_DIR is private by default; a directory we do not own is refused.
        PrivateFiles.Configure(options.SharedMode);
        try { PrivateFiles.PrepareSharedDirectory(options.SharedDir); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"sandbox: {e.Message}");
            return 2;
        }

        // The tokens are read; from here on nothing the appliance starts can read them back.
        Secrets.Protect();
        foreach (var name in Secrets.Names) env.Remove(name);

        // The kernel gateway is a second listener; it binds right after the REST app and prespawns kernels
        // in the background. Disposed after the REST app, so no kernel outlives the appliance.
        StartupTrace.Mark("shared-dir+secrets");
        await using var gateway = new GatewayService(gatewayOptions, env);
        StartupTrace.Mark("gateway-ctor");
        AppDomain.CurrentDomain.UnhandledException += (_, _) => gateway.KillEverything();
        // Its port is bound now (microseconds) though its host starts after the first answer: a client that
        // connects to it at once (after a /health poll) waits in the backlog instead of being refused.
        gateway.ReservePort();
        await using var appliance = Appliance.Build(options, gateway);
        StartupTrace.Mark("appliance-built");
        // Cold start: the REST port is bound first, so nothing of the gateway (a second host, its bind, the
        // kernel venv and zygote) sits before the first answer; readiness (/readyz, READY=1) still waits for both.
        var lifetime = appliance.Api.Lifetime; // read now: RunAsync disposes the app's services
        var restStarted = lifetime.ApplicationStarted;
        appliance.Deferred.Defer(StartupHeap.End);
        var gatewayStart = StartAfter(appliance.Deferred.Opened, lifetime.ApplicationStopping, gateway.StartAsync);
        // --- Memory: start-up-only pages released once the deferred start-up is done, then again when idle (ResidentPages) ---
        if (options.Memory.ReleaseStartupPages || options.Memory.IdleTrimMs > 0)
            _ = gatewayStart.ContinueWith(_ =>
            {
                if (options.Memory.ReleaseStartupPages) ResidentPages.Release();
                ResidentPages.StartIdleTrim(TimeSpan.FromMilliseconds(options.Memory.IdleTrimMs));
            }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
        // --- Systemd: READY=1 once both ports are bound, STATUS=, WATCHDOG=1, STOPPING=1 ---
        systemd?.Attach(appliance.Api.Lifetime, gatewayStart,
            () => SystemdNotify.Describe(appliance.DisplayState, options.Display, gateway.Health()));
        await appliance.RunAsync();
        if (restStarted.IsCancellationRequested) await gatewayStart; // else it never began
        return 0;
    }

    /// <summary>Runs <paramref name="start"/> on the thread pool once <paramref name="open"/> completes, unless stopping by then.</summary>
    private static async Task StartAfter(Task open, CancellationToken stopping, Func<CancellationToken, Task> start)
    {
        await open.ConfigureAwait(false);
        if (stopping.IsCancellationRequested) return;
        await start(CancellationToken.None).ConfigureAwait(false);
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

    private Appliance(WebApplication api, ScreenCapture capture, Recorder recorder, LiveViewHub? liveView, SandboxOptions options,
        StartupGate deferred)
    {
        Deferred = deferred;
        Api = api;
        _capture = capture;
        _recorder = recorder;
        _liveView = liveView;
        Options = options;
    }

    public WebApplication Api { get; }
    public SandboxOptions Options { get; }

    /// <summary>Start-up work that waits for the first answer (see <see cref="StartupGate"/>).</summary>
    public StartupGate Deferred { get; }
    public DisplayState DisplayState => _capture.Connection.State;

    public static Appliance Build(SandboxOptions options, GatewayService? gateway = null)
    {
        var builder = BuilderDefaults.CreateBuilder(options.Host, options.Port, options.MaxRequestBodyBytes);
        // One line per entry (journald and the rotated log file read it line by line), UTC timestamps. ASP.NET's
        // warnings and errors, and the lifetime lines, stay; its per-request Information lines do not.
        var console = new OneLineConsoleLogger();
        BuilderDefaults.UseLog(builder, console, "Microsoft.AspNetCore");
        // One source-generated JSON context per area, chained here (the composition root is the only place that knows them all).
        builder.Services.ConfigureHttpJsonOptions(o =>
        {
            foreach (var context in new System.Text.Json.Serialization.JsonSerializerContext[]
                     { WebJson.Default, ApiJson.Default, CaptureJson.Default, RecordApiJson.Default, InputJson.Default, LiveViewJson.Default, FleetJson.Default,
                       ProcessesJson.Default, FilesJson.Default,
                       Sandbox.Accessibility.AccessibilityJson.Default,
                       Sandbox.Clipboard.ClipboardJson.Default, Sandbox.Desktop.DesktopJson.Default,
                       Sandbox.OsWorld.OsWorldJson.Default })
                o.SerializerOptions.TypeInfoResolverChain.Insert(0, context);
        });

        StartupTrace.Mark("builder-configured");
        var app = builder.Build();
        var gate = new StartupGate();
        // First in the pipeline: the gate opens once the first answer has been sent (its last bytes flushed: the
        // deferred work does not compete with that flush for the two cores).
        app.Use((ctx, next) =>
        {
            if (!gate.IsOpen) ctx.Response.OnCompleted(static g => { ((StartupGate)g).Answered(); return Task.CompletedTask; }, gate);
            return next(ctx);
        });
        StartupTrace.Mark("builder-built");
        if (StartupTrace.Enabled) app.Use((ctx, next) => { StartupTrace.Request("request " + ctx.Request.Path); return next(ctx); });
        var logs = app.Services.GetRequiredService<ILoggerFactory>();
        StartupTrace.Mark("logger-factory");
        XDisplayConnection Connection(string area) => new(options.Display, area, logs.CreateLogger("Sandbox.Display"));

        // Every X connection and service is made here and passed in by constructor. Each area has its own
        // connection, so a slow one (a long type, a recording's reconnect) never holds up another.
        var captureConnection = Connection("capture");
        var capture = new ScreenCapture(captureConnection, options.UseSharedMemory, options.DisplayTimeoutMs, logs.CreateLogger("Sandbox.Capture"));
        var screenshots = new ScreenshotService(capture, options, options.Capture, logs.CreateLogger<ScreenshotService>());
        StartupTrace.Mark("capture+screenshots");
        var activity = new ActivityFeed();
        // --- Trajectories --- agent steps are journaled while a recording runs, each with the screen after it:
        // a full-size PNG with the cursor and without the red box, as OSWorld's observations (docs/recording.md).
        var recorder = new Recorder(options, options.Recording, logs, activity,
            screenshot: png => screenshots.Render(new ScreenshotRequest { Annotate = false }, png));
        IStepJournal steps = recorder.Steps;
        StartupTrace.Mark("recorder");
        // --- end Trajectories ---
        // --- Accessibility --- (made before Input: actions may target an element by its id; mapped below)
        var accessibility = new Sandbox.Accessibility.AccessibilityService(options.Accessibility,
            Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
                .ToDictionary(e => (string)e.Key, e => e.Value as string),
            rootWindowAddress: () => Sandbox.Accessibility.RootWindowAddress.Read(options.Display), logs.CreateLogger("Sandbox.Accessibility"));
        StartupTrace.Mark("accessibility");
        // --- Clipboard --- (made before Input: paste_text sets the clipboard; mapped below)
        // Its own X connection and thread: the owner must answer other clients at any time.
        var clipboard = new Sandbox.Clipboard.ClipboardService(
            Connection("clipboard"), options.Clipboard,
            logs.CreateLogger("Sandbox.Clipboard"));
        // --- Desktop --- (made before Input: batches may wait for a /wait condition; mapped below)
        var desktop = new Sandbox.Desktop.DesktopService(
            Connection("desktop"), options.Desktop);
        var waits = new Sandbox.Desktop.WaitService(
            Connection("wait"), desktop, options.Desktop);
        StartupTrace.Mark("clipboard+desktop");
        var computer = new ComputerService(Connection("input"), screenshots, options, options.Input, logs.CreateLogger("Sandbox.Input"), activity,
            accessibility, clipboard, waits);
        StartupTrace.Mark("computer");
        // Its own X connection: streaming never waits on (or delays) screenshots and actions.
        var liveView = options.LiveView.Enabled
            ? new LiveViewHub(Connection("liveview"), options, options.LiveView, activity, logs, computer)
            : null;

        StartupTrace.Mark("areas-constructed");
        // Routing first so the guard sees each endpoint's declared upload types; the guard before the token.
        var restToken = new AccessToken(options.Token);
        var guard = new GuardPolicy(options.AllowHosts, options.AllowOrigins);
        var health = new HealthSources(captureConnection, gateway, recorder) { Container = () => ContainerLimits.Read(options.Fleet.CgroupRoot) };
        app.UseHealthAheadOfRouting(health, guard); // cold start: the first /health answer does not build the routing table
        BuilderDefaults.UseSecuredPipeline(app, guard, a => a.UseTokenAuth(restToken), logs.CreateLogger("Sandbox.Api"));
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.FromSeconds(30) });

        StartupTrace.Mark("middleware");
        app.MapHealthApi(health);
        app.MapScreenshotApi(screenshots, options);
        app.MapRecordApi(recorder);
        app.MapComputerApi(computer, steps);
        if (liveView is not null)
        {
            app.MapLiveViewApi(liveView);
            app.Lifetime.ApplicationStopping.Register(liveView.CloseViewers);
        }
        StartupTrace.Mark("map-core");
        // --- Processes ---
        var processes = new Sandbox.Processes.ProcessService(options.Processes, Environment.GetEnvironmentVariables(), logs.CreateLogger("Sandbox.Processes"));
        app.MapProcessesApi(processes);
        gate.Defer(processes.StartGuardian); // a spawn: after the first answer (or at the first command)
        app.Lifetime.ApplicationStopping.Register(processes.KillAll);
        app.Lifetime.ApplicationStopped.Register(processes.Dispose);
        // --- end Processes ---
        // --- Files ---
        var files = OperatingSystem.IsWindows() ? null : new Sandbox.Files.FileService(options.Files);
        if (files is not null && !OperatingSystem.IsWindows()) app.MapFilesApi(files); // Unix modes, statx, inotify
        // --- end Files ---
        // --- Accessibility ---
        Sandbox.Accessibility.AccessibilityApi.MapAccessibilityApi(app, accessibility);
        app.Lifetime.ApplicationStopped.Register(accessibility.Dispose);
        // --- end Accessibility ---
        // --- Clipboard --- (made above, before Input: paste_text sets the clipboard)
        Sandbox.Clipboard.ClipboardApi.MapClipboardApi(app, clipboard);
        app.Lifetime.ApplicationStopped.Register(clipboard.Dispose);
        // --- end Clipboard ---
        // --- Desktop --- (made above, before Input: batches may wait for a /wait condition)
        // Launched applications are spawned like kernels: own process group, reaped by the appliance.
        var apps = new Sandbox.Desktop.AppLauncher(desktop, async (file, argv, env) =>
            (await ChildProcess.StartAsync(new ChildStart(file, argv, env, null, null))).Pid, options.Display, options.Desktop);
        Sandbox.Desktop.DesktopApi.MapDesktopApi(app, desktop, waits, apps);
        app.Lifetime.ApplicationStopped.Register(desktop.Dispose);
        app.Lifetime.ApplicationStopped.Register(waits.Dispose);
        // --- end Desktop ---
        StartupTrace.Mark("map-areas");
        // --- Mcp ---
        if (options.Mcp.Enabled)
        {
            var mcp = new Sandbox.Mcp.McpServer(options.Mcp, typeof(Appliance).Assembly.GetName().Version?.ToString(3) ?? "0.0.0", logs.CreateLogger("Sandbox.Mcp"));
            var screen = new Sandbox.Mcp.ScreenTools(screenshots, options.MaxImageEdge);
            mcp.Add((Sandbox.Mcp.IMcpToolProvider)screen).Add(new Sandbox.Mcp.ComputerTools(computer, steps));
            if (gateway?.Kernels is { } kernels) mcp.Add(new Sandbox.Mcp.PythonTools(kernels, options.Mcp));
            mcp.Add(new Sandbox.Mcp.ProcessTools(processes)).Add(new Sandbox.Mcp.AccessibilityTools(accessibility));
            if (files is not null && !OperatingSystem.IsWindows()) mcp.Add(new Sandbox.Mcp.FileTools(files, options.Mcp));
            mcp.Add(new Sandbox.Mcp.DesktopTools(clipboard, desktop, apps, waits));
            mcp.Add((Sandbox.Mcp.IMcpResourceProvider)screen).Add(new Sandbox.Mcp.RecordingResources(options.RecordingDir, options.Mcp));
            app.MapMcpApi(mcp);
            // Sessions end (their kernels shut down) while the gateway still runs.
            app.Lifetime.ApplicationStopping.Register(() => mcp.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(5)));
        }
        // --- OsWorld --- OSWorld's in-VM server contract on its own listener (SANDBOX_OSWORLD_PORT; docs/osworld.md):
        // a separate slim app as the gateway's (VMs are port-forwarded: the port, not the Host, tells them apart),
        // with the same guard, token and JSON errors as this port. Bound here: a taken port stops the start (exit code 2).
        if (options.OsWorld.Enabled && files is not null && !OperatingSystem.IsWindows())
        {
            var osworld = new Sandbox.OsWorld.OsWorldAdapter(options.OsWorld, screenshots, accessibility, processes, files, desktop, waits, apps,
                recorder, steps, options.SharedDir, logs.CreateLogger("Sandbox.OsWorld"));
            var osBuilder = BuilderDefaults.CreateBuilder(options.OsWorld.Host ?? options.Host, options.OsWorld.Port, options.MaxRequestBodyBytes);
            BuilderDefaults.UseLog(osBuilder, console, "Microsoft");
            osBuilder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Add(Sandbox.OsWorld.OsWorldJson.Default));
            var osApp = osBuilder.Build();
            BuilderDefaults.UseSecuredPipeline(osApp, guard, a => a.UseTokenAuth(restToken),
                logs.CreateLogger("Sandbox.OsWorld"));
            // An unknown path is a JSON 404; a known one with another method keeps routing's 405, as Flask answers.
            osApp.Use(async (http, next) =>
            {
                if (http.GetEndpoint() is null) await ErrorResults.Error(404, "Not Found", "no such OSWorld route (docs/osworld.md)").ExecuteAsync(http);
                else await next(http);
            });
            Sandbox.OsWorld.OsWorldApi.MapOsWorldApi(osApp, osworld);
            try { osApp.StartAsync().GetAwaiter().GetResult(); }
            catch (IOException e)
            {
                // As a bad setting: a message naming it and exit code 2, before anything else has started.
                Console.Error.WriteLine($"sandbox: SANDBOX_OSWORLD_PORT={options.OsWorld.Port}: {e.Message}");
                Environment.Exit(2);
            }
            app.Lifetime.ApplicationStopping.Register(() => osApp.StopAsync().Wait(TimeSpan.FromSeconds(5)));
            app.Lifetime.ApplicationStopped.Register(() => { osApp.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(5)); if (!OperatingSystem.IsWindows()) osworld.Dispose(); });
        }
        // --- end OsWorld ---
        app.MapOpenApi();
        StartupTrace.Mark("areas-mapped");

        StartupTrace.Mark("map-mcp+openapi");
        // --- Fleet --- probes, /init, PID 1 duty (docs/fleets.md).
        var poolFilled = false;
        var readiness = new Readiness([
            new ReadinessCheck("display", () =>
            {
                try { captureConnection.Run(static s => s.RefreshScreenSize(), 250); return null; }
                catch (DisplayUnavailableException e) { return e.Message; }
            }),
            new ReadinessCheck("capture", () => captureConnection.LastScreenSize is null ? "no screen read yet" : null),
            new ReadinessCheck("input", () => computer.Connection.State == DisplayState.Connected ? null : "input connection " + computer.Connection.State.ToString().ToLowerInvariant()),
            new ReadinessCheck("gateway", () =>
            {
                if (gateway is null || gateway.Options.Mode == GatewayMode.Off) return null;
                var g = gateway.Health();
                if (g.State != "listening") return $"gateway {g.State}{(g.Error is null ? "" : ": " + g.Error)}";
                if (!options.Fleet.ReadyNeedsKernel || g.PoolTarget == 0 || poolFilled) return null;
                // The pool counts once it has held a ready kernel: taking one must not flap readiness while it refills.
                if (g.PoolReady > 0 || g.Kernels > 0) { poolFilled = true; return null; }
                return $"kernel pool starting ({g.PoolReady}/{g.PoolTarget} ready)";
            }),
        ]);
        var init = new InitService(options.Fleet, t =>
        {
            var gatewayToken = gateway?.State?.Token;
            if (!restToken.Accepts(t) || gatewayToken?.Accepts(t) == false) return TokenChange.Conflict;
            var change = restToken.Set(t);
            gatewayToken?.Set(t);
            return change;
        }, () => gateway?.Kernels?.RecycleStalePool());
        app.MapFleetApi(readiness, init);
        var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, _ => readiness.Drain());
        var reaper = OrphanReaper.StartIfWanted(options.Fleet, logs.CreateLogger("Sandbox.Fleet"));
        app.Lifetime.ApplicationStopped.Register(() => { sigterm.Dispose(); reaper?.Dispose(); });

        app.Lifetime.ApplicationStarted.Register(() => StartupTrace.Mark("rest-started"));
        // The capture connection at once (/health's display probe uses it); what the first answer does not
        // need after that answer (StartupGate), so it does not take the CPU from it.
        app.Lifetime.ApplicationStarted.Register(() =>
            _ = Task.Run(() => captureConnection.TryConnect(options.DisplayTimeoutMs)));
        app.Lifetime.ApplicationStarted.Register(gate.Arm);
        gate.Defer(computer.WarmUp);
        // Stopping, not Stopped: running action requests are cancelled (and release what they hold) while the
        // server still waits for them, and the keymap is restored before the process exits.
        app.Lifetime.ApplicationStopping.Register(computer.Dispose);
        // Journals a killed process left open get their actions and footer, off the start-up path (at once, not
        // behind StartupGate: a directory scan when nothing is left, and a restarted appliance finishes them first).
        app.Lifetime.ApplicationStarted.Register(() => _ = Task.Run(recorder.RecoverUnfinished));
        // SIGTERM: a running recording is finished (actions written, video closed) before the process exits.
        app.Lifetime.ApplicationStopping.Register(recorder.Shutdown);
        app.Lifetime.ApplicationStopping.Register(readiness.Drain); // --- Fleet --- (last: Stopping callbacks run in reverse)
        return new Appliance(app, capture, recorder, liveView, options, gate);
    }

    public Task RunAsync() => Api.RunAsync();

    public async ValueTask DisposeAsync()
    {
        await Api.DisposeAsync();
        _liveView?.Dispose();
        _recorder.Dispose();
        _capture.Dispose();
    }

}
