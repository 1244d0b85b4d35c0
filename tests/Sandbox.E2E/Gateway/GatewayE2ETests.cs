using Sandbox.E2E.Infrastructure;
using Sandbox.E2E.Reliability;
using Sandbox.Testing;
using Xunit.Abstractions;
using static Sandbox.Testing.JupyterWsClient;

namespace Sandbox.E2E.Gateway;

/// <summary>The kernel gateway of the published binary: real clients, real kernels, real signals.</summary>
[Collection("Gateway E2E")]
public sealed class GatewayE2ETests(ITestOutputHelper output)
{
    [Fact]
    public async Task Pointer_moved_by_XTest_from_a_kernel_is_where_xdotool_sees_it()
    {
        using var x = XvfbServer.Start(1280, 800);
        using var app = ApplianceProcess.Start(x);
        var id = await Kernels.StartAsync(app);
        await using var ws = await Kernels.ConnectAsync(app, id);
        var printed = StreamText(await ws.ExecuteAsync(
            "from Xlib import display, X\nfrom Xlib.ext import xtest\nd = display.Display()\n" +
            "xtest.fake_input(d, X.MotionNotify, x=123, y=234)\nd.sync()\nprint('moved')", timeout: Kernels.Patience));
        Assert.Equal("moved\n", printed);
        var (_, stdout, _) = Processes.Run("xdotool", ["getmouselocation"], x.Env.ToDictionary());
        Assert.StartsWith("x:123 y:234 ", stdout);
        // /health on the REST port reports the gateway and the connected kernel.
        var health = await app.GetJsonAsync("/health");
        var gateway = health.GetProperty("gateway");
        Assert.Equal("builtin", gateway.GetProperty("mode").GetString());
        Assert.Equal(1, gateway.GetProperty("connections").GetInt32());
        Assert.Equal(id, gateway.GetProperty("kernel_list")[0].GetProperty("id").GetString());
    }

    [Fact]
    public async Task After_SIGTERM_no_kernel_nor_its_children_remain()
    {
        using var app = ApplianceProcess.Start(null, new Dictionary<string, string?> { ["KG_PRESPAWN_COUNT"] = "1" });
        var (kernelPid, childPid) = await KernelWithChildAsync(app);
        var poolPid = await WaitPoolPidAsync(app);
        Assert.Equal(0, app.Stop());
        Assert.True(await Kernels.GoneAsync(kernelPid), "kernel survived SIGTERM");
        Assert.True(await Kernels.GoneAsync(childPid), "kernel's child survived SIGTERM");
        Assert.True(await Kernels.GoneAsync(poolPid), "pooled kernel survived SIGTERM");
    }

    [Fact]
    public async Task After_SIGKILL_the_kernel_dies_with_the_appliance_and_the_next_start_kills_its_children()
    {
        using var first = ApplianceProcess.Start(null);
        var (kernelPid, childPid) = await KernelWithChildAsync(first);
        Processes.Run("kill", ["-KILL", first.Pid.ToString()]);
        // PR_SET_PDEATHSIG (setpriv) takes the kernel along at once.
        Assert.True(await Kernels.GoneAsync(kernelPid), "kernel survived the appliance's SIGKILL");
        // What the kernel started is recorded by its process group; the next appliance on the same
        // SHARED_DIR kills that group from the pid file.
        using var second = ApplianceProcess.Start(null, new Dictionary<string, string?> { ["SHARED_DIR"] = first.SharedDir });
        Assert.True(await Kernels.GoneAsync(childPid), "the kernel's child survived the next start");
        Assert.Empty(Directory.GetFiles(Path.Combine(first.SharedDir, "kernels"), "*.pid"));
        Figures.Report(output, "faults(appliance SIGKILL, kernels): the kernel died with the appliance, its child was killed by the " +
            "next start on the same SHARED_DIR, pid files left 0, kernels left 0");
    }

    private static async Task<(int Kernel, int Child)> KernelWithChildAsync(ApplianceProcess app)
    {
        var id = await Kernels.StartAsync(app);
        await using var ws = await Kernels.ConnectAsync(app, id);
        var printed = StreamText(await ws.ExecuteAsync("import os, subprocess\np = subprocess.Popen(['sleep', '600'])\nprint(os.getpid(), p.pid)",
            timeout: Kernels.Patience));
        var parts = printed.Split(' ', StringSplitOptions.TrimEntries);
        return (int.Parse(parts[0]), int.Parse(parts[1]));
    }

    private static async Task<int> WaitPoolPidAsync(ApplianceProcess app)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            var pids = Directory.GetFiles(Path.Combine(app.SharedDir, "kernels"), "*.pid")
                .Select(f => int.Parse(File.ReadAllText(f).Split(' ')[0])).ToList();
            var gateway = (await app.GetJsonAsync("/health")).GetProperty("gateway");
            var clientPids = gateway.GetProperty("kernel_list").EnumerateArray().Select(k => k.GetProperty("pid").GetInt32()).ToHashSet();
            if (gateway.GetProperty("pool_ready").GetInt32() == 1 && pids.FirstOrDefault(p => !clientPids.Contains(p)) is var pool and > 0)
                return pool;
            await Task.Delay(100);
        }
        throw new TimeoutException("the pool did not refill");
    }
}

[CollectionDefinition("Gateway E2E", DisableParallelization = true)]
public sealed class GatewayE2ECollection;
