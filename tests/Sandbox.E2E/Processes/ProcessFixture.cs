using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Sandbox.E2E.Infrastructure;

namespace Sandbox.E2E.ProcessesApi;

/// <summary>One appliance without a display for the process and file tests of a class.</summary>
public sealed class ApplianceFixture : IDisposable
{
    public ApplianceFixture() => App = ApplianceProcess.Start(null);

    public ApplianceProcess App { get; }

    public void Dispose() => App.Dispose();
}

/// <summary>Calls /process/run and reads the answer.</summary>
public static class Run
{
    public static async Task<(int Status, JsonElement Body)> PostAsync(HttpClient http, string path, object body)
    {
        var json = JsonSerializer.Serialize(body);
        using var r = await http.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));
        var text = await r.Content.ReadAsStringAsync();
        return ((int)r.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    public static async Task<JsonElement> OkAsync(HttpClient http, object body)
    {
        var (status, answer) = await PostAsync(http, "/process/run", body);
        Assert.True(status == 200, $"POST /process/run {JsonSerializer.Serialize(body)} → {status}: {answer}");
        return answer;
    }

    public static byte[] Bytes(JsonElement answer, string stream)
    {
        var text = answer.GetProperty(stream).GetString()!;
        return answer.GetProperty(stream + "_encoding").GetString() == "base64" ? Convert.FromBase64String(text) : Encoding.UTF8.GetBytes(text);
    }

    /// <summary>True once the pid is gone (or a zombie nobody reaped yet: it runs nothing).</summary>
    public static bool IsGone(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..].StartsWith('Z');
        }
        catch (IOException) { return true; }
    }

    public static async Task WaitGoneAsync(int pid, int timeoutMs = 20_000)
    {
        var sw = System.Diagnostics.Stopwatch.StartNew();
        while (!IsGone(pid))
        {
            if (sw.ElapsedMilliseconds > timeoutMs) Assert.Fail($"process {pid} still runs: {File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ')}");
            await Task.Delay(50);
        }
    }

    public static async Task<string> WaitFileAsync(string path, int timeoutMs = 20_000)
    {
        var sw = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            if (File.Exists(path) && File.ReadAllText(path) is { Length: > 0 } s && s.EndsWith('\n')) return s.Trim();
            if (sw.ElapsedMilliseconds > timeoutMs) Assert.Fail($"{path} was not written");
            await Task.Delay(50);
        }
    }
}
