using System.Collections;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Hosting;
using Sandbox.Display;
using Sandbox.Gateway;
using Sandbox.Hosting;

namespace Sandbox.Tests.Hosting;

/// <summary>The sd_notify datagrams, received on a real Unix datagram socket standing in for the manager's.</summary>
public sealed class SystemdNotifyTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sdnotify-").FullName;

    /// <summary>A bound datagram socket, as systemd's notify socket is.</summary>
    private sealed class Manager : IDisposable
    {
        private readonly Socket _socket = new(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);

        public Manager(string address)
        {
            _socket.Bind(new UnixDomainSocketEndPoint(address));
            _socket.ReceiveTimeout = 30_000;
        }

        public string Next()
        {
            var buffer = new byte[4096];
            var n = _socket.Receive(buffer);
            return Encoding.UTF8.GetString(buffer, 0, n);
        }

        /// <summary>The next datagram that is not a watchdog ping.</summary>
        public string NextNonWatchdog()
        {
            while (true) { var m = Next(); if (m != "WATCHDOG=1") return m; }
        }

        public void Dispose() => _socket.Dispose();
    }

    private sealed class Lifetime : IHostApplicationLifetime
    {
        public readonly CancellationTokenSource Started = new(), Stopping = new(), Stopped = new();
        public CancellationToken ApplicationStarted => Started.Token;
        public CancellationToken ApplicationStopping => Stopping.Token;
        public CancellationToken ApplicationStopped => Stopped.Token;
        public void StopApplication() => Stopping.Cancel();
    }

    [Fact]
    public void Ready_status_and_stopping_arrive_as_datagrams_on_a_path_socket()
    {
        var path = Path.Combine(_dir, "notify");
        using var manager = new Manager(path);
        var env = new Hashtable { ["NOTIFY_SOCKET"] = path, ["OTHER"] = "kept" };
        using var notify = SystemdNotify.FromEnvironment(env);
        Assert.NotNull(notify);
        Assert.Null(notify.WatchdogInterval);

        notify.Status("starting");
        Assert.Equal("STATUS=starting", manager.Next());
        notify.Status("starting");           // unchanged: nothing sent
        notify.Ready("serving; display :0 connected");
        Assert.Equal($"READY=1\nSTATUS=serving; display :0 connected\nMAINPID={Environment.ProcessId}", manager.Next());
        notify.Ready("again");               // only the first READY goes out
        notify.Status("line one\nline two"); // one STATUS line, never a second assignment
        Assert.Equal("STATUS=line one line two", manager.Next());
        notify.Stopping();
        Assert.Equal("STOPPING=1\nSTATUS=stopping", manager.Next());
        Assert.Equal("kept", env["OTHER"]);
    }

    [Fact]
    public void An_abstract_socket_name_is_addressed_with_a_leading_nul()
    {
        var name = "sandbox-test-" + Guid.NewGuid().ToString("N");
        using var manager = new Manager("\0" + name);
        using var notify = SystemdNotify.FromEnvironment(new Hashtable { ["NOTIFY_SOCKET"] = "@" + name });
        Assert.NotNull(notify);
        Assert.True(notify.Send("READY=1"));
        Assert.Equal("READY=1", manager.Next());
    }

    [Fact]
    public void The_protocol_variables_are_removed_so_children_do_not_inherit_them()
    {
        var env = new Hashtable { ["NOTIFY_SOCKET"] = "@x", ["WATCHDOG_USEC"] = "1000000", ["WATCHDOG_PID"] = "1", ["PATH"] = "/usr/bin" };
        Environment.SetEnvironmentVariable("WATCHDOG_PID", "1");
        using var notify = SystemdNotify.FromEnvironment(env, ownPid: 4242);
        foreach (var name in SystemdNotify.Variables)
        {
            Assert.False(env.Contains(name), name);
            Assert.Null(Environment.GetEnvironmentVariable(name));
        }
        Assert.Equal("/usr/bin", env["PATH"]);
        // WATCHDOG_PID names another process: the watchdog is not ours.
        Assert.NotNull(notify);
        Assert.Null(notify.WatchdogInterval);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("relative/path")]
    [InlineData("@")]
    public void No_usable_socket_means_no_notifier(string? socket)
    {
        var env = new Hashtable();
        if (socket is not null) env["NOTIFY_SOCKET"] = socket;
        Assert.Null(SystemdNotify.FromEnvironment(env));
    }

    [Fact]
    public void Watchdog_pings_come_every_half_timeout()
    {
        var path = Path.Combine(_dir, "wd");
        using var manager = new Manager(path);
        var pid = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        using var notify = SystemdNotify.FromEnvironment(new Hashtable { ["NOTIFY_SOCKET"] = path, ["WATCHDOG_USEC"] = "200000", ["WATCHDOG_PID"] = pid });
        Assert.NotNull(notify);
        Assert.Equal(TimeSpan.FromMilliseconds(100), notify.WatchdogInterval);
        notify.StartWatchdog();
        Assert.Equal("WATCHDOG=1", manager.Next());
        Assert.Equal("WATCHDOG=1", manager.Next());
    }

    [Fact]
    public async Task Attach_sends_ready_only_after_the_rest_port_and_the_gateway_are_up_then_stopping()
    {
        var path = Path.Combine(_dir, "attach");
        using var manager = new Manager(path);
        using var notify = SystemdNotify.FromEnvironment(new Hashtable { ["NOTIFY_SOCKET"] = path });
        Assert.NotNull(notify);
        var lifetime = new Lifetime();
        var gateway = new TaskCompletionSource();
        var status = "serving; display :0 not connected yet";
        notify.Attach(lifetime, gateway.Task, () => status);
        Assert.Equal("STATUS=starting", manager.NextNonWatchdog());

        // REST bound, gateway still binding: no READY yet (the probe arrives first).
        await lifetime.Started.CancelAsync();
        notify.Send("PROBE=1");
        Assert.Equal("PROBE=1", manager.NextNonWatchdog());

        gateway.SetResult();
        Assert.Equal($"READY=1\nSTATUS={status}\nMAINPID={Environment.ProcessId}", manager.NextNonWatchdog());

        // The display comes up: the status poll reports the change.
        status = "serving; display :0 connected";
        Assert.Equal("STATUS=" + status, manager.NextNonWatchdog());

        await lifetime.Stopping.CancelAsync();
        Assert.Equal("STOPPING=1\nSTATUS=stopping", manager.NextNonWatchdog());
    }

    [Fact]
    public void A_failed_gateway_start_still_reports_ready_with_the_reason_in_the_status()
    {
        var path = Path.Combine(_dir, "failed");
        using var manager = new Manager(path);
        using var notify = SystemdNotify.FromEnvironment(new Hashtable { ["NOTIFY_SOCKET"] = path });
        var lifetime = new Lifetime();
        notify!.Attach(lifetime, Task.FromException(new IOException("port in use")),
            () => SystemdNotify.Describe(DisplayState.Connected, ":0",
                new GatewayHealth("builtin", "failed", null, 0, 0, 0, 0, 1, null, null, null, "port in use")));
        Assert.Equal("STATUS=starting", manager.Next());
        lifetime.Started.Cancel();
        Assert.Equal($"READY=1\nSTATUS=serving; display :0 connected; gateway failed, kernels ready 0/1\nMAINPID={Environment.ProcessId}", manager.Next());
    }

    [Fact]
    public void A_vanished_manager_socket_is_not_an_error()
    {
        var path = Path.Combine(_dir, "gone");
        using var notify = SystemdNotify.FromEnvironment(new Hashtable { ["NOTIFY_SOCKET"] = path });
        Assert.False(notify!.Send("READY=1"));
        notify.Stopping();
        Assert.True(notify.Failures >= 1);
    }

    [Fact]
    public void Describe_names_the_display_and_the_gateway()
    {
        Assert.Equal("serving; display :0 connected; gateway listening on http://0.0.0.0:8888, kernels ready 1/1",
            SystemdNotify.Describe(DisplayState.Connected, ":0",
                new GatewayHealth("builtin", "listening", "http://0.0.0.0:8888", 1, 0, 1, 0, 1, null, null, null, null)));
        Assert.Equal("serving; display (none) not configured; gateway off", SystemdNotify.Describe(DisplayState.NotConfigured, null, null));
    }

    public void Dispose()
    {
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }
}
