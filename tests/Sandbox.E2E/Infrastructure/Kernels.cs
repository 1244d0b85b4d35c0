using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Sandbox.Testing;

namespace Sandbox.E2E.Infrastructure;

/// <summary>The published appliance's kernel gateway as the end-to-end tests drive it.</summary>
internal static class Kernels
{
    /// <summary>Generous: kernels start slowly on a busy 2-core machine; a hang still ends.</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);

    public static string ChannelsUrl(ApplianceProcess app, string id) => $"ws://127.0.0.1:{app.GatewayPort}/api/kernels/{id}/channels";

    public static async Task<string> StartAsync(ApplianceProcess app)
    {
        using var http = new HttpClient { Timeout = Patience };
        using var r = await http.PostAsync($"http://127.0.0.1:{app.GatewayPort}/api/kernels", null);
        Assert.Equal(HttpStatusCode.Created, r.StatusCode);
        return (await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
    }

    public static async Task DeleteAsync(ApplianceProcess app, string id)
    {
        using var http = new HttpClient { Timeout = Patience };
        using var r = await http.DeleteAsync($"http://127.0.0.1:{app.GatewayPort}/api/kernels/{id}");
        Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
    }

    public static Task<JupyterWsClient> ConnectAsync(ApplianceProcess app, string id) => JupyterWsClient.ConnectAsync(ChannelsUrl(app, id));

    /// <summary>True once the pid is gone or a zombie (dead, waiting for its new parent to reap it), within 10 s.</summary>
    public static async Task<bool> GoneAsync(int pid)
    {
        for (var i = 0; i < 100; i++)
        {
            try
            {
                var stat = File.ReadAllText($"/proc/{pid}/stat");
                if (stat[(stat.LastIndexOf(')') + 2)] == 'Z') return true;
            }
            catch (IOException) { return true; }
            await Task.Delay(100);
        }
        return false;
    }
}
