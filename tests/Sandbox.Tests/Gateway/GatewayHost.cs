using System.Collections;
using System.Net.Http.Headers;
using Sandbox.Gateway;
using Sandbox.Testing;

namespace Sandbox.Tests.Gateway;

/// <summary>
/// The built-in gateway started in-process on a free loopback port with real ipykernel processes.
/// Kernels come from Debian's kernelspec (/usr/share/jupyter/kernels/python3, argv[0] /usr/bin/python3):
/// JUPYTER_DATA_DIR points at an empty temp dir so no user spec can shadow it, and PATH puts /usr/bin
/// first because the python3 otherwise on PATH here lacks ipykernel.
/// </summary>
public sealed class GatewayHost : IAsyncDisposable
{
    private GatewayService _service = null!;

    public string SharedDir { get; } = Directory.CreateTempSubdirectory("sandbox-gw-").FullName;
    public string BaseUrl { get; private set; } = "";
    public string WsBase => "ws" + BaseUrl["http".Length..];
    public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(90) };
    public string? Token { get; private set; }
    internal GatewayService Service => _service;
    internal GatewayOptions Options => _service.Options;

    public static Hashtable DefaultEnv(string sharedDir)
    {
        var env = new Hashtable();
        foreach (DictionaryEntry e in Environment.GetEnvironmentVariables()) env[e.Key] = e.Value;
        env["PATH"] = "/usr/bin:/bin:" + env["PATH"];
        env["SHARED_DIR"] = sharedDir;
        env["JUPYTER_KERNEL_GATEWAY_APP_HOST"] = "127.0.0.1";
        env["JUPYTER_KERNEL_GATEWAY_APP_PORT"] = "0";
        env["JUPYTER_DATA_DIR"] = Path.Combine(sharedDir, "jupyter-data");
        env["KG_PRESPAWN_COUNT"] = "1";
        foreach (var name in new[] { "KG_AUTH_TOKEN", "JUPYTER_PATH", "JUPYTER_KERNEL_NAME", "KG_DEFAULT_KERNEL_NAME", "KG_LIST_KERNELS", "KG_MAX_KERNELS", "SANDBOX_KERNEL_VENV" })
            env.Remove(name);
        return env;
    }

    public static async Task<GatewayHost> StartAsync(Action<Hashtable>? configure = null)
    {
        var host = new GatewayHost();
        var env = DefaultEnv(host.SharedDir);
        configure?.Invoke(env);
        var options = GatewayOptions.FromEnvironment(env);
        host._service = new GatewayService(options, env);
        await host._service.StartAsync();
        host.BaseUrl = host._service.ListenUrl?.Replace("0.0.0.0", "127.0.0.1") ?? "";
        host.Token = options.AuthToken;
        if (host.Token is not null) host.Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("token", host.Token);
        return host;
    }

    public async Task<string> StartKernelAsync(string? body = null)
    {
        using var content = body is null ? null : new StringContent(body, System.Text.Encoding.UTF8, "application/json");
        using var response = await Http.PostAsync(BaseUrl + "/api/kernels", content);
        Assert.Equal(System.Net.HttpStatusCode.Created, response.StatusCode);
        using var doc = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return doc.RootElement.GetProperty("id").GetString()!;
    }

    public Task<JupyterWsClient> ConnectAsync(string kernelId, string? sessionId = null, bool v1 = false, bool tokenInQuery = false)
    {
        var query = new List<string>();
        if (sessionId is not null) query.Add("session_id=" + sessionId);
        if (tokenInQuery && Token is not null) query.Add("token=" + Token);
        var url = $"{WsBase}/api/kernels/{kernelId}/channels" + (query.Count > 0 ? "?" + string.Join('&', query) : "");
        return JupyterWsClient.ConnectAsync(url, v1, tokenInQuery ? null : Token);
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _service.DisposeAsync();
        try { Directory.Delete(SharedDir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

/// <summary>One gateway shared by the tests of the "Gateway" collection (kernels take about a second to start).</summary>
public sealed class SharedGateway : IAsyncLifetime
{
    public GatewayHost Host { get; private set; } = null!;
    public async Task InitializeAsync() => Host = await GatewayHost.StartAsync();
    public async Task DisposeAsync() => await Host.DisposeAsync();
}

[CollectionDefinition("Gateway", DisableParallelization = true)]
public sealed class GatewayCollection : ICollectionFixture<SharedGateway>;
