using System.Buffers.Binary;
using System.Collections;
using System.Text;
using System.Text.Json.Nodes;
using Sandbox.Gateway;
using Sandbox.Common;

namespace Sandbox.Tests.Gateway;

/// <summary>Framing, signing, rate limiting and options without a kernel.</summary>
public sealed class WireTests
{
    private static WireMessage Sample(params byte[][] buffers) => new(
        JupyterWire.NewHeader("id-1", "stream", "s"), "{\"msg_id\":\"p\"}"u8.ToArray(), "{}"u8.ToArray(),
        "{\"name\":\"stdout\",\"text\":\"hi\\n\"}"u8.ToArray(), buffers);

    [Fact]
    public void Legacy_json_has_top_level_msg_type_buffers_list_and_channel()
    {
        var (payload, binary) = WebSocketCodec.Encode(WsProtocol.Legacy, "iopub", Sample());
        Assert.False(binary);
        var msg = JsonNode.Parse(payload)!.AsObject();
        Assert.Equal(["header", "msg_id", "msg_type", "parent_header", "metadata", "content", "buffers", "channel"], msg.Select(p => p.Key));
        Assert.Equal("stream", msg["msg_type"]!.GetValue<string>());
        Assert.Equal("id-1", msg["msg_id"]!.GetValue<string>());
        Assert.Equal("iopub", msg["channel"]!.GetValue<string>());
        Assert.Empty(msg["buffers"]!.AsArray());
    }

    [Fact]
    public void Legacy_binary_frames_carry_offsets_json_and_buffers()
    {
        var (payload, binary) = WebSocketCodec.Encode(WsProtocol.Legacy, "iopub", Sample([1, 2], [3]));
        Assert.True(binary);
        Assert.Equal(3u, BinaryPrimitives.ReadUInt32BigEndian(payload));
        var decoded = WebSocketCodec.Decode(WsProtocol.Legacy, payload, binary: true);
        Assert.Equal("iopub", decoded.Channel);
        Assert.Equal([[1, 2], [3]], decoded.Message.Buffers);
        Assert.Equal("stream", decoded.Message.MsgType);
    }

    [Fact]
    public void V1_round_trips_channel_parts_and_buffers()
    {
        var bytes = WebSocketCodec.EncodeV1("shell", Sample([9, 9, 9]));
        var decoded = WebSocketCodec.Decode(WsProtocol.V1, bytes, binary: true);
        Assert.Equal("shell", decoded.Channel);
        Assert.Equal("stream", decoded.Message.MsgType);
        Assert.Equal("{\"msg_id\":\"p\"}", Encoding.UTF8.GetString(decoded.Message.Parent));
        Assert.Equal([9, 9, 9], Assert.Single(decoded.Message.Buffers));
    }

    [Fact]
    public void Client_json_without_channel_or_parent_is_accepted_and_garbage_is_rejected()
    {
        var json = "{\"header\": {\"msg_id\": \"a\", \"msg_type\": \"execute_request\"}, \"content\": {\"code\": \"1\"}, \"buffers\": {}}"u8.ToArray();
        var m = WebSocketCodec.Decode(WsProtocol.Legacy, json, binary: false);
        Assert.Null(m.Channel);
        Assert.Equal("{}", Encoding.UTF8.GetString(m.Message.Parent));
        Assert.Equal("execute_request", m.Message.MsgType);
        Assert.Throws<WsDecodeException>(() => WebSocketCodec.Decode(WsProtocol.Legacy, "{oops"u8.ToArray(), false));
        Assert.Throws<WsDecodeException>(() => WebSocketCodec.Decode(WsProtocol.Legacy, "{\"content\":{}}"u8.ToArray(), false));
        Assert.Throws<WsDecodeException>(() => WebSocketCodec.Decode(WsProtocol.V1, new byte[12], true));
        Assert.Throws<WsDecodeException>(() => WebSocketCodec.Decode(WsProtocol.Legacy, new byte[] { 0, 0, 0, 9, 0, 0, 0, 0 }, true));
    }

    [Fact]
    public void Signatures_are_hmac_sha256_hex_of_the_four_json_frames()
    {
        using var signer = new MessageSigner("key"u8.ToArray());
        var m = Sample();
        var frames = signer.Frames(m);
        var expected = Convert.ToHexStringLower(System.Security.Cryptography.HMACSHA256.HashData("key"u8,
            [.. m.Header, .. m.Parent, .. m.Metadata, .. m.Content]));
        Assert.Equal(expected, Encoding.ASCII.GetString(frames[1]));
        Assert.True(signer.Verify(m, frames[1]));
        Assert.False(signer.Verify(m, "00"u8.ToArray()));
    }

    [Fact]
    public void Rate_limiter_withholds_past_the_message_rate_warns_once_and_resets_on_idle()
    {
        long now = 0;
        var options = new GatewayOptions { IopubMsgRateLimit = 10, RateLimitWindowSeconds = 1 };
        var limiter = new IopubRateLimiter(options, () => now);
        var m = Sample();
        var decisions = Enumerable.Range(0, 20).Select(_ => limiter.Check("stream", m, null)).ToList();
        Assert.Equal(10, decisions.Count(d => d == RateDecision.Send));
        Assert.Equal(1, decisions.Count(d => d == RateDecision.DropAndWarn));
        Assert.Equal(RateDecision.Send, limiter.Check("status", m, "busy"));
        Assert.Equal(RateDecision.Send, limiter.Check("status", m, "idle"));
        Assert.Equal(RateDecision.Send, limiter.Check("stream", m, null));
    }

    [Fact]
    public void Gateway_options_read_kg_names_and_report_every_bad_value()
    {
        var o = GatewayOptions.FromEnvironment(new Hashtable { ["KG_IP"] = "127.0.0.1", ["KG_PORT"] = "9999", ["KG_LIST_KERNELS"] = "False" });
        Assert.Equal("127.0.0.1", o.Host);
        Assert.Equal(9999, o.Port);
        Assert.False(o.ListKernels);
        Assert.Equal(1, o.PrespawnCount);
        Assert.Equal("python3", o.ResolvedDefaultKernelName);
        Assert.Equal("/tmp/sandbox-server/jupyter-kernel.log", o.LogPath);
        var d = GatewayOptions.FromEnvironment(new Hashtable());
        Assert.Equal(("0.0.0.0", 8888, true), (d.Host, d.Port, d.ListKernels));
        Assert.Equal((20_000, 29_999), d.KernelPortRange);
        Assert.Equal((40_000, 40_100), GatewayOptions.FromEnvironment(new Hashtable { ["SANDBOX_KERNEL_PORT_RANGE"] = "40000-40100" }).KernelPortRange);
        Assert.Null(GatewayOptions.FromEnvironment(new Hashtable { ["SANDBOX_KERNEL_PORT_RANGE"] = "0" }).KernelPortRange);
        var e = Assert.Throws<Sandbox.Common.OptionsException>(() => GatewayOptions.FromEnvironment(new Hashtable
        {
            ["JUPYTER_KERNEL_GATEWAY_APP_PORT"] = "x", ["KG_MAX_KERNELS"] = "-1", ["SANDBOX_KERNEL_GATEWAY"] = "sideways",
            ["SANDBOX_KERNEL_PORT_RANGE"] = "30000-30010",
        }));
        Assert.Equal(4, e.Errors.Count);
    }

    [Fact]
    public void Request_env_is_filtered_as_kernel_gateway_does()
    {
        var options = new GatewayOptions { EnvWhitelist = ["ALLOWED"] };
        var appEnv = new Hashtable { ["PATH"] = "/usr/bin", ["DISPLAY"] = ":5", ["HOME"] = "/root", ["KG_AUTH_TOKEN"] = "t", ["SANDBOX_TOKEN"] = "u" };
        var launcher = new KernelLauncher(options, appEnv, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        var spec = new KernelSpec("python3", "/x", ["python3"], "P", "python", false, new Dictionary<string, string> { ["SPEC"] = "{connection_file}" }, null, null);
        var env = launcher.BuildEnv(spec, "/c.json", new Dictionary<string, string> { ["KERNEL_A"] = "1", ["ALLOWED"] = "2", ["OTHER"] = "3", ["KG_AUTH_TOKEN"] = "x" });
        Assert.Equal(["ALLOWED", "DISPLAY", "JPY_PARENT_PID", "KERNEL_A", "KERNEL_GATEWAY", "PATH", "SPEC"], env.Keys.Order());
        Assert.Equal("/c.json", env["SPEC"]);
        var plain = launcher.BuildEnv(spec, "/c.json", null);
        Assert.Equal("/root", plain["HOME"]);
        Assert.False(plain.ContainsKey("KG_AUTH_TOKEN") || plain.ContainsKey("SANDBOX_TOKEN"));
    }
}
