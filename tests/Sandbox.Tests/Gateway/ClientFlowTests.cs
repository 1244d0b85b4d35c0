using System.Net;
using System.Net.WebSockets;
using System.Text.Json.Nodes;
using Sandbox.Testing;
using static Sandbox.Testing.JupyterWsClient;

namespace Sandbox.Tests.Gateway;

/// <summary>The flows of real agent clients against real ipykernel processes.</summary>
[Collection("Gateway")]
public sealed class ClientFlowTests(SharedGateway shared)
{
    private GatewayHost Host => shared.Host;

    [Fact]
    public async Task A_post_then_execute_at_once_without_channel_yields_stream_result_error_and_idle()
    {
        var id = await Host.StartKernelAsync();
        await using var ws = await Host.ConnectAsync(id);

        var msgId = await ws.ExecuteRequestAsync("print('hello')\n6*7", channel: null);
        var messages = await ws.CollectReplyAsync(msgId);
        var stream = Assert.Single(messages, m => Type(m) == "stream");
        Assert.Equal("stdout", stream["content"]!["name"]!.GetValue<string>());
        Assert.Equal("hello\n", stream["content"]!["text"]!.GetValue<string>());
        Assert.Equal("iopub", stream["channel"]!.GetValue<string>());
        var result = Assert.Single(messages, m => Type(m) == "execute_result");
        Assert.Equal("42", result["content"]!["data"]!["text/plain"]!.GetValue<string>());
        var reply = Assert.Single(messages, m => Type(m) == "execute_reply");
        Assert.Equal("shell", reply["channel"]!.GetValue<string>());
        Assert.Equal("ok", reply["content"]!["status"]!.GetValue<string>());
        Assert.Equal(Type(reply), reply["header"]!["msg_type"]!.GetValue<string>());
        Assert.Equal(reply["msg_id"]!.GetValue<string>(), reply["header"]!["msg_id"]!.GetValue<string>());
        Assert.Empty(reply["buffers"]!.AsArray());

        var errors = await ws.ExecuteAsync("1/0", channel: null);
        var error = Assert.Single(errors, m => Type(m) == "error");
        Assert.Equal("ZeroDivisionError", error["content"]!["ename"]!.GetValue<string>());
        Assert.Contains(errors, m => Type(m) == "status" && m["content"]!["execution_state"]!.GetValue<string>() == "idle");

        // Nothing but answers to our own requests reached us: the gateway's kernel_info stays internal.
        Assert.DoesNotContain(ws.Seen, m => Type(m) == "kernel_info_reply");
        Assert.All(ws.Seen.Where(m => Type(m) == "status"), m => Assert.NotNull(ParentId(m)));
        await DeleteAsync(id);
    }

    [Fact]
    public async Task C_header_token_shell_channel_and_buffers_object_get_kernel_info_reply()
    {
        var id = await Host.StartKernelAsync();
        await using var ws = await Host.ConnectAsync(id);
        var msgId = await ws.SendAsync("kernel_info_request", new JsonObject(), "shell", buffersAsObject: true);
        var reply = await ws.WaitForAsync(m => Type(m) == "kernel_info_reply" && ParentId(m) == msgId);
        Assert.Equal("shell", reply["channel"]!.GetValue<string>());
        Assert.Equal("ok", reply["content"]!["status"]!.GetValue<string>());
        Assert.Equal("python", reply["content"]!["language_info"]!["name"]!.GetValue<string>());
        await DeleteAsync(id);
    }

    [Fact]
    public async Task D_interrupt_stops_a_sleep_restart_keeps_the_id_and_delete_then_404()
    {
        var id = await Host.StartKernelAsync();
        await using (var ws = await Host.ConnectAsync(id))
        {
            var before = StreamText(await ws.ExecuteAsync("import os; print(os.getpid())")).Trim();
            var sleep = await ws.ExecuteRequestAsync("import time; time.sleep(60)");
            await ws.WaitForAsync(m => Type(m) == "status" && ParentId(m) == sleep && m["content"]!["execution_state"]!.GetValue<string>() == "busy");
            await Task.Delay(200); // let the kernel enter the sleep itself
            using (var r = await Host.Http.PostAsync($"{Host.BaseUrl}/api/kernels/{id}/interrupt", null))
                Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
            var messages = await ws.CollectReplyAsync(sleep);
            var error = Assert.Single(messages, m => Type(m) == "error");
            Assert.Equal("KeyboardInterrupt", error["content"]!["ename"]!.GetValue<string>());
            Assert.Equal("error", messages.Single(m => Type(m) == "execute_reply")["content"]!["status"]!.GetValue<string>());

            using (var r = await Host.Http.PostAsync($"{Host.BaseUrl}/api/kernels/{id}/restart", null))
            {
                Assert.Equal(HttpStatusCode.OK, r.StatusCode);
                var model = JsonNode.Parse(await r.Content.ReadAsStringAsync())!;
                Assert.Equal(id, model["id"]!.GetValue<string>());
            }
            // The same connection carries on with the new process.
            var after = StreamText(await ws.ExecuteAsync("import os; print(os.getpid())")).Trim();
            Assert.NotEqual(before, after);
            var gone = await ws.ExecuteAsync("print(time)");
            Assert.Equal("NameError", gone.Single(m => Type(m) == "error")["content"]!["ename"]!.GetValue<string>());
        }
        using (var r = await Host.Http.DeleteAsync($"{Host.BaseUrl}/api/kernels/{id}"))
            Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
        using (var r = await Host.Http.GetAsync($"{Host.BaseUrl}/api/kernels/{id}"))
        {
            Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
            var body = JsonNode.Parse(await r.Content.ReadAsStringAsync())!;
            Assert.Equal("Not Found", body["reason"]!.GetValue<string>());
            Assert.Contains(id, body["message"]!.GetValue<string>());
        }
        using (var r = await Host.Http.DeleteAsync($"{Host.BaseUrl}/api/kernels/{id}"))
            Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
    }

    [Fact]
    public async Task E_magics_and_shell_escapes_run()
    {
        var id = await Host.StartKernelAsync();
        await using var ws = await Host.ConnectAsync(id);
        // ! runs through a pty, hence \r\n.
        Assert.Equal("escape-ok", StreamText(await ws.ExecuteAsync("!echo escape-ok")).TrimEnd());
        var env = await ws.ExecuteAsync("%env KERNEL_GATEWAY");
        Assert.Equal("'1'", env.Single(m => Type(m) == "execute_result")["content"]!["data"]!["text/plain"]!.GetValue<string>());
        var captured = await ws.ExecuteAsync("x = !echo captured\nprint(x[0])");
        Assert.Equal("captured\n", StreamText(captured));
        var time = await ws.ExecuteAsync("%time sum(range(10))");
        Assert.Contains("Wall time", StreamText(time));
        await DeleteAsync(id);
    }

    [Fact]
    public async Task F_two_connections_share_iopub_and_replies_go_to_the_requester()
    {
        var id = await Host.StartKernelAsync();
        await using var a = await Host.ConnectAsync(id, sessionId: "session-a");
        await using var b = await Host.ConnectAsync(id, sessionId: "session-b");
        using (var r = await Host.Http.GetAsync($"{Host.BaseUrl}/api/kernels/{id}"))
            Assert.Equal(2, JsonNode.Parse(await r.Content.ReadAsStringAsync())!["connections"]!.GetValue<int>());

        var msgId = await a.ExecuteRequestAsync("print('to everyone')");
        var onA = await a.CollectReplyAsync(msgId);
        Assert.Equal("to everyone\n", StreamText(onA));
        var streamOnB = await b.WaitForAsync(m => Type(m) == "stream" && ParentId(m) == msgId);
        Assert.Equal("to everyone\n", streamOnB["content"]!["text"]!.GetValue<string>());
        await b.WaitForAsync(m => Type(m) == "status" && ParentId(m) == msgId && m["content"]!["execution_state"]!.GetValue<string>() == "idle");
        // b's own request is answered to b only; a sees its iopub but never b's execute_reply.
        var bId = await b.ExecuteRequestAsync("1");
        await b.CollectReplyAsync(bId);
        await a.WaitForAsync(m => Type(m) == "status" && ParentId(m) == bId && m["content"]!["execution_state"]!.GetValue<string>() == "idle");
        Assert.DoesNotContain(a.Seen, m => Type(m) == "execute_reply" && ParentId(m) == bId);
        Assert.DoesNotContain(b.Seen, m => Type(m) == "execute_reply" && ParentId(m) == msgId);
        await DeleteAsync(id);
    }

    [Fact]
    public async Task G_a_SIGKILLed_kernel_is_restarted_and_clients_see_restarting()
    {
        var id = await Host.StartKernelAsync();
        await using var ws = await Host.ConnectAsync(id);
        var pid = int.Parse(StreamText(await ws.ExecuteAsync("import os; print(os.getpid())")).Trim());
        System.Diagnostics.Process.GetProcessById(pid).Kill();
        await ws.WaitForAsync(m => Type(m) == "status" && m["content"]!["execution_state"]!.GetValue<string>() == "restarting");
        var again = StreamText(await ws.ExecuteAsync("import os; print(os.getpid())", timeout: TimeSpan.FromSeconds(60))).Trim();
        Assert.NotEqual(pid.ToString(), again);
        using (var r = await Host.Http.GetAsync($"{Host.BaseUrl}/api/kernels/{id}"))
            Assert.Equal(id, JsonNode.Parse(await r.Content.ReadAsStringAsync())!["id"]!.GetValue<string>());
        await DeleteAsync(id);
    }

    [Fact]
    public async Task H_input_goes_through_stdin()
    {
        var id = await Host.StartKernelAsync();
        await using var ws = await Host.ConnectAsync(id);
        var msgId = await ws.ExecuteRequestAsync("name = input('who? ')\nprint('hello', name)", allowStdin: true);
        var request = await ws.WaitForAsync(m => Type(m) == "input_request");
        Assert.Equal("stdin", request["channel"]!.GetValue<string>());
        Assert.Equal("who? ", request["content"]!["prompt"]!.GetValue<string>());
        await ws.SendAsync("input_reply", new JsonObject { ["value"] = "agent" }, "stdin");
        var messages = await ws.CollectReplyAsync(msgId);
        Assert.Equal("hello agent\n", StreamText(messages));
        await DeleteAsync(id);
    }

    [Fact]
    public async Task V1_subprotocol_round_trips_binary_frames()
    {
        var id = await Host.StartKernelAsync();
        await using var ws = await Host.ConnectAsync(id, v1: true);
        Assert.Equal("v1.kernel.websocket.jupyter.org", ws.Socket.SubProtocol);
        var messages = await ws.ExecuteAsync("print('v1')");
        Assert.Equal("v1\n", StreamText(messages));
        Assert.Equal("shell", messages.Single(m => Type(m) == "execute_reply")["channel"]!.GetValue<string>());
        await DeleteAsync(id);
    }

    [Fact]
    public async Task Reconnect_with_the_same_session_replays_what_arrived_while_away()
    {
        var id = await Host.StartKernelAsync();
        string msgId;
        await using (var first = await Host.ConnectAsync(id, sessionId: "replay-me"))
        {
            msgId = await first.ExecuteRequestAsync("import time; time.sleep(0.5); print('while away')");
            await first.WaitForAsync(m => Type(m) == "status" && ParentId(m) == msgId);
        }
        await Task.Delay(1000);
        await using var second = await Host.ConnectAsync(id, sessionId: "replay-me");
        var messages = await second.CollectReplyAsync(msgId);
        Assert.Equal("while away\n", StreamText(messages));
        await DeleteAsync(id);
    }

    [Fact]
    public async Task Comm_messages_with_buffers_use_binary_frames()
    {
        var id = await Host.StartKernelAsync();
        await using var ws = await Host.ConnectAsync(id);
        // A comm message with a buffer from the kernel side: the legacy protocol sends it as a binary frame.
        var msgId = await ws.ExecuteRequestAsync(
            "from ipykernel.comm import Comm\nc = Comm(target_name='t', data={})\nc.send(data={'k': 1}, buffers=[b'abc'])");
        var messages = await ws.CollectReplyAsync(msgId);
        var withBuffer = Assert.Single(messages, m => Type(m) == "comm_msg");
        Assert.Equal(1, withBuffer["buffer_count"]!.GetValue<int>());
        Assert.Equal("iopub", withBuffer["channel"]!.GetValue<string>());
        await DeleteAsync(id);
    }

    private async Task DeleteAsync(string id)
    {
        using var r = await Host.Http.DeleteAsync($"{Host.BaseUrl}/api/kernels/{id}");
        Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
    }
}
