using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Sandbox.Gateway;

internal sealed class NoSuchKernelSpecException(string name, IEnumerable<string> available)
    : Exception($"No such kernel named {name} (available: {string.Join(", ", available)})");

internal sealed class ResourceLimitException() : Exception("Resource Limit");

/// <summary>
/// The kernels clients hold, the warm pool, and culling. A plain start (default spec, no env, no path)
/// takes a pooled kernel, which is already launched and usually already answering, and the pool refills
/// in the background; anything else launches a fresh kernel. Starting never waits for the kernel to be
/// ready: the WebSocket upgrade does, as in jupyter_server.
/// </summary>
internal sealed class KernelManager : IAsyncDisposable
{
    private readonly GatewayOptions _options;
    private readonly ILoggerFactory _logs;
    private readonly ILogger _log;
    private readonly ConcurrentDictionary<string, Kernel> _kernels = new(StringComparer.Ordinal);
    private readonly List<Kernel> _pool = [];
    private readonly object _poolLock = new();
    /// <summary>The InitEnvironment generation each pooled kernel was started with (guarded by _poolLock).</summary>
    private readonly Dictionary<Kernel, int> _poolGeneration = [];
    private readonly Func<Task> _environmentReady;
    private readonly CancellationTokenSource _stopping = new();
    private int _poolStarting;
    private Task? _culler;

    public KernelManager(GatewayOptions options, KernelSpecCatalog specs, KernelLauncher launcher, ILoggerFactory logs, Func<Task>? environmentReady = null)
    {
        _options = options;
        Specs = specs;
        Launcher = launcher;
        _logs = logs;
        _log = logs.CreateLogger("KernelManager");
        _environmentReady = environmentReady ?? (() => Task.CompletedTask);
    }

    public KernelSpecCatalog Specs { get; }
    public KernelLauncher Launcher { get; }
    public string DefaultKernelName => _options.ResolvedDefaultKernelName;

    public IReadOnlyCollection<Kernel> Kernels => _kernels.Values.OrderBy(k => k.Id, StringComparer.Ordinal).ToList();

    public Kernel? Get(string id) => _kernels.TryGetValue(id, out var k) ? k : null;

    public (int Ready, int Starting) PoolState()
    {
        lock (_poolLock)
        {
            var ready = _pool.Count(k => k.Ready.IsCompletedSuccessfully);
            return (ready, _pool.Count - ready + _poolStarting);
        }
    }

    /// <summary>Background work at boot: kill leftovers of a crashed predecessor, fill the pool, start culling.</summary>
    public void Start()
    {
        var killed = Launcher.KillLeftovers();
        if (killed > 0) _log.LogWarning("killed {Count} kernels left by a previous appliance", killed);
        // The zygote imports ipykernel now, so the first kernel request already costs only a fork.
        _ = Task.Run(async () =>
        {
            await _environmentReady().ConfigureAwait(false);
            if (!_stopping.IsCancellationRequested && Specs.Find(DefaultKernelName) is { } spec) Launcher.Warm(spec);
        });
        RefillPool();
        if (_options.CullIdleTimeoutSeconds > 0) _culler = CullLoopAsync(_stopping.Token);
    }

    public async Task<Kernel> StartKernelAsync(string? name, IReadOnlyDictionary<string, string>? env, string? path)
    {
        name = string.IsNullOrEmpty(name) ? DefaultKernelName : name.ToLowerInvariant();
        if (_options.MaxKernels > 0 && _kernels.Count >= _options.MaxKernels) throw new ResourceLimitException();
        if (env is null && path is null && name == DefaultKernelName && TakePooled() is { } pooled)
        {
            Register(pooled);
            _log.LogInformation("kernel {Kernel} handed out from the pool", pooled.Id);
            RefillPool();
            return pooled;
        }
        await _environmentReady().ConfigureAwait(false);
        var spec = Specs.Find(name) ?? throw new NoSuchKernelSpecException(name, Specs.All().Keys);
        var kernel = NewKernel(spec, env, path);
        await kernel.StartAsync().ConfigureAwait(false);
        Register(kernel);
        RefillPool();
        return kernel;
    }

    private Kernel NewKernel(KernelSpec spec, IReadOnlyDictionary<string, string>? env, string? cwd)
    {
        var id = Guid.NewGuid().ToString();
        return new Kernel(id, spec, _options, Launcher, _logs.CreateLogger("Kernel"), env, cwd);
    }

    private void Register(Kernel kernel)
    {
        _kernels[kernel.Id] = kernel;
        kernel.Ended += k => _kernels.TryRemove(k.Id, out _);
    }

    /// <summary>
    /// Pooled kernels started before the last <c>POST /init</c> environment change lack its variables: they are
    /// shut down and the pool refills, so the kernel a claim takes has them.
    /// </summary>
    public void RecycleStalePool()
    {
        List<Kernel> stale;
        lock (_poolLock)
        {
            var current = Sandbox.Common.InitEnvironment.Generation;
            stale = _pool.Where(k => _poolGeneration.GetValueOrDefault(k) < current).ToList();
            foreach (var k in stale) _pool.Remove(k);
            foreach (var k in _poolGeneration.Keys.Where(k => !_pool.Contains(k)).ToList()) _poolGeneration.Remove(k);
        }
        if (stale.Count == 0) return;
        _log.LogInformation("recycling {Count} pooled kernels started before the environment changed", stale.Count);
        foreach (var k in stale) _ = k.ShutdownAsync(now: true);
        RefillPool();
    }

    private Kernel? TakePooled()
    {
        RecycleStalePool();
        lock (_poolLock)
        {
            _pool.RemoveAll(k => !k.IsAlive);
            // Prefer one that already answers; else the oldest, which is closest to answering.
            var pick = _pool.FirstOrDefault(k => k.Ready.IsCompletedSuccessfully) ?? _pool.FirstOrDefault();
            if (pick is not null)
            {
                _pool.Remove(pick);
                _poolGeneration.Remove(pick);
            }
            return pick;
        }
    }

    /// <summary>Tops the pool up to KG_PRESPAWN_COUNT, one launch at a time, within KG_MAX_KERNELS.</summary>
    private void RefillPool()
    {
        lock (_poolLock)
        {
            if (_stopping.IsCancellationRequested || _poolStarting > 0) return;
            _pool.RemoveAll(k => !k.IsAlive);
            if (_pool.Count >= _options.PrespawnCount) return;
            if (_options.MaxKernels > 0 && _kernels.Count + _pool.Count >= _options.MaxKernels) return;
            _poolStarting++;
        }
        _ = Task.Run(async () =>
        {
            Kernel? kernel = null;
            var generation = Sandbox.Common.InitEnvironment.Generation; // read before the launch builds its environment
            try
            {
                await _environmentReady().ConfigureAwait(false);
                var spec = Specs.Find(DefaultKernelName);
                if (spec is null)
                {
                    _log.LogError("cannot prespawn: no kernelspec named {Name}", DefaultKernelName);
                    return;
                }
                kernel = NewKernel(spec, null, null);
                await kernel.StartAsync().ConfigureAwait(false);
            }
            catch (Exception e)
            {
                _log.LogError("prespawning a kernel failed: {Error}", e.Message);
                kernel = null;
            }
            finally
            {
                var again = false;
                lock (_poolLock)
                {
                    _poolStarting--;
                    if (kernel is not null && !_stopping.IsCancellationRequested)
                    {
                        _pool.Add(kernel);
                        _poolGeneration[kernel] = generation;
                        again = true;
                    }
                }
                if (kernel is not null && _stopping.IsCancellationRequested) await kernel.ShutdownAsync(now: true).ConfigureAwait(false);
                if (again) RefillPool();
            }
        });
    }

    public async Task<bool> ShutdownKernelAsync(string id)
    {
        if (!_kernels.TryGetValue(id, out var kernel)) return false;
        await kernel.ShutdownAsync().ConfigureAwait(false);
        _kernels.TryRemove(id, out _);
        RefillPool();
        return true;
    }

    private async Task CullLoopAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(_options.CullIntervalSeconds));
        try
        {
            while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false))
            {
                var cutoff = DateTime.UtcNow.AddSeconds(-_options.CullIdleTimeoutSeconds);
                foreach (var k in _kernels.Values)
                {
                    if (k.LastActivity > cutoff) continue;
                    if (!_options.CullBusy && k.ExecutionState == "busy") continue;
                    if (!_options.CullConnected && k.Hub.ConnectedClients > 0) continue;
                    _log.LogInformation("culling kernel {Kernel}: idle since {Since:O}", k.Id, k.LastActivity);
                    await ShutdownKernelAsync(k.Id).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) { }
    }

    /// <summary>Kills every kernel's process group at once: the appliance is exiting.</summary>
    public void KillAll()
    {
        _stopping.Cancel();
        List<Kernel> all;
        lock (_poolLock) all = [.. _pool, .. _kernels.Values];
        foreach (var k in all) k.KillNow();
        Launcher.StopZygotes();
    }

    public async ValueTask DisposeAsync()
    {
        _stopping.Cancel();
        List<Kernel> all;
        lock (_poolLock)
        {
            all = [.. _pool, .. _kernels.Values];
            _pool.Clear();
        }
        await Task.WhenAll(all.Select(k => k.ShutdownAsync(now: true))).ConfigureAwait(false);
        _kernels.Clear();
        Launcher.StopZygotes();
        if (_culler is not null) await _culler.ConfigureAwait(false);
    }
}
