using System.Net;
using System.Text.Json.Nodes;
using Sandbox.E2E.Infrastructure;
using Sandbox.Testing;
using static Sandbox.Testing.JupyterWsClient;

namespace Sandbox.E2E.Gateway;

/// <summary>Kernels forked by the kernel zygote behave like exec'd ones: own process group, interrupt, shutdown.</summary>
[Collection("Gateway E2E")]
public sealed class KernelZygoteTests
{
    private const string WhoAmI =
        "import os\nppid = os.getppid()\ncmd = open(f'/proc/{ppid}/cmdline', 'rb').read()\n" +
        "print(os.getpid(), os.getpgrp(), int(b'Kernel zygote of the Sandbox appliance' in cmd), os.getcwd())";

    [Fact]
    public async Task A_kernel_is_forked_by_the_zygote_in_its_own_group_and_interrupt_and_shutdown_reach_it()
    {
        using var app = ApplianceProcess.Start(null);
        var id = await Kernels.StartAsync(app);
        int pid;
        await using (var ws = await Kernels.ConnectAsync(app, id))
        {
            var parts = StreamText(await ws.ExecuteAsync(WhoAmI, timeout: Kernels.Patience)).Split(' ', StringSplitOptions.TrimEntries);
            pid = int.Parse(parts[0]);
            Assert.Equal(parts[0], parts[1]);    // its own process group
            Assert.Equal("1", parts[2]);         // the parent is the zygote
            // The appliance's own working directory, as exec'd kernels get it.
            Assert.Equal(new DirectoryInfo($"/proc/{app.Pid}/cwd").LinkTarget, parts[3]);

            // SIGINT to the group becomes KeyboardInterrupt in the running cell.
            // Interrupt once the cell runs: ipykernel ignores SIGINT between publishing "busy" and starting the
            // cell's handler, so an interrupt sent at "busy" can be lost (as it is with jupyter_server's too).
            var msgId = await ws.ExecuteRequestAsync("import time\nprint('sleeping', flush=True)\ntime.sleep(120)");
            await ws.WaitForAsync(m => m["msg_type"]?.GetValue<string>() == "stream" &&
                m["content"]?["text"]?.GetValue<string>()?.Contains("sleeping") == true, Kernels.Patience);
            using (var http = new HttpClient { Timeout = Kernels.Patience })
            using (var r = await http.PostAsync($"http://127.0.0.1:{app.GatewayPort}/api/kernels/{id}/interrupt", null))
                Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
            var reply = await ws.WaitForAsync(m => m["msg_type"]?.GetValue<string>() == "execute_reply" &&
                m["parent_header"]?["msg_id"]?.GetValue<string>() == msgId, Kernels.Patience);
            Assert.Equal("error", reply["content"]?["status"]?.GetValue<string>());
            Assert.Equal("KeyboardInterrupt", reply["content"]?["ename"]?.GetValue<string>());
        }
        await Kernels.DeleteAsync(app, id);
        Assert.True(await Kernels.GoneAsync(pid), "the forked kernel survived DELETE");
    }

    [Fact]
    public async Task With_the_zygote_off_kernels_are_exec_d()
    {
        using var app = ApplianceProcess.Start(null, new Dictionary<string, string?> { ["SANDBOX_KERNEL_ZYGOTE"] = "false" });
        var id = await Kernels.StartAsync(app);
        await using var ws = await Kernels.ConnectAsync(app, id);
        var parts = StreamText(await ws.ExecuteAsync(WhoAmI, timeout: Kernels.Patience)).Split(' ', StringSplitOptions.TrimEntries);
        Assert.Equal(parts[0], parts[1]);
        Assert.Equal("0", parts[2]);
    }
}
