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

    private const string Self =
        "import os, sys\nfrom ipykernel.connect import get_connection_file\n" +
        "print(os.getpid(), os.path.basename(sys.argv[-1]), os.path.basename(get_connection_file()), globals().get('zygote_marker'))";

    /// <summary>
    /// After two starts alike the zygote's next spare guesses the next request (same environment, cwd, log) and runs
    /// ipykernel's start up to the connection file ahead of it. A kernel it serves has its own connection file
    /// and argv; a config file written after the spare read the config makes the spare stale: a fresh fork
    /// serves that request, and the kernel sees the new config, as an exec'd kernel would.
    /// </summary>
    [Fact]
    public async Task A_prepared_spare_serves_the_next_kernel_with_its_own_connection_file_and_a_config_change_is_seen()
    {
        var ipythonDir = Directory.CreateTempSubdirectory("sandbox-e2e-ipython-");
        try
        {
            using var app = ApplianceProcess.Start(null, new Dictionary<string, string?> { ["IPYTHONDIR"] = ipythonDir.FullName });
            // Two starts with the same environment, cwd and log: the zygote then guesses the next one.
            await Kernels.DeleteAsync(app, await Kernels.StartAsync(app));
            var first = await Kernels.StartAsync(app);
            string[] parts;
            await using (var ws = await Kernels.ConnectAsync(app, first))
                parts = StreamText(await ws.ExecuteAsync(Self, timeout: Kernels.Patience)).Split(' ', StringSplitOptions.TrimEntries);
            var firstPid = int.Parse(parts[0]);
            var zygote = ParentOf(firstPid);
            var log = Path.Combine(app.SharedDir, "jupyter-kernel.log");   // the kernels' stdout (ipykernel then captures it)

            // The spare that guessed the first request, waiting for the next one.
            var spare = await WaitingSpareAsync(zygote, log, [firstPid]);
            var second = await Kernels.StartAsync(app);
            await using (var ws = await Kernels.ConnectAsync(app, second))
                parts = StreamText(await ws.ExecuteAsync(Self, timeout: Kernels.Patience)).Split(' ', StringSplitOptions.TrimEntries);
            Assert.Equal(spare.ToString(), parts[0]);                // the prepared spare became this kernel
            Assert.Equal($"kernel-{second}.json", parts[1]);        // with its own argv
            Assert.Equal($"kernel-{second}.json", parts[2]);        // and connection file
            Assert.Equal("None", parts[3]);

            // A config file appears after the next spare read the config: that spare is stale.
            var stale = await WaitingSpareAsync(zygote, log, [firstPid, spare]);
            var profile = Path.Combine(ipythonDir.FullName, "profile_default");
            Directory.CreateDirectory(profile);
            File.WriteAllText(Path.Combine(profile, "ipython_kernel_config.py"), "c.IPKernelApp.exec_lines = ['zygote_marker = 42']\n");
            var third = await Kernels.StartAsync(app);
            await using (var ws = await Kernels.ConnectAsync(app, third))
                parts = StreamText(await ws.ExecuteAsync(Self, timeout: Kernels.Patience)).Split(' ', StringSplitOptions.TrimEntries);
            Assert.NotEqual(stale.ToString(), parts[0]);
            Assert.Equal($"kernel-{third}.json", parts[2]);
            Assert.Equal("42", parts[3]);                            // the new config applies
            Assert.True(await Kernels.GoneAsync(stale), "the stale spare was not let go");
            foreach (var id in new[] { first, second, third })
                await Kernels.DeleteAsync(app, id);
        }
        finally
        {
            ipythonDir.Delete(recursive: true);
        }
    }

    private static int ParentOf(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        return int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1]);
    }

    /// <summary>A child of the zygote, not one of <paramref name="kernels"/>, writing to the kernels' log and
    /// blocked reading a pipe: a spare that prepared a kernel and waits for its request.</summary>
    private static async Task<int> WaitingSpareAsync(int zygote, string log, int[] kernels)
    {
        var deadline = DateTime.UtcNow + Kernels.Patience;
        while (DateTime.UtcNow < deadline)
        {
            foreach (var dir in Directory.EnumerateDirectories("/proc"))
            {
                if (!int.TryParse(Path.GetFileName(dir), out var pid) || kernels.Contains(pid)) continue;
                try
                {
                    if (ParentOf(pid) != zygote || new FileInfo($"/proc/{pid}/fd/1").LinkTarget != log) continue;
                    if (File.ReadAllText($"/proc/{pid}/wchan").Contains("pipe_read", StringComparison.Ordinal)) return pid;
                }
                catch (IOException) { }
                catch (UnauthorizedAccessException) { }
            }
            await Task.Delay(50);
        }
        throw new TimeoutException("no prepared spare appeared");
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
