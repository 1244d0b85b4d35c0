using System.Net.Sockets;
using System.Text;
using Sandbox.Accessibility;
using Xunit;

namespace Sandbox.Tests.Accessibility;

/// <summary>The stream under direct connections: corked writes go out together, reads come from its own thread.</summary>
public sealed class PeerStreamTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("peerstream-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A peer stream connected to a listening socket of the test's, and that socket's accepted end.</summary>
    private async Task<(Socket Server, PeerStream Stream)> ConnectAsync()
    {
        var path = Path.Combine(_dir, "s");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        listener.Listen(1);
        var connecting = PeerStream.ConnectAsync("unix:path=" + path, CancellationToken.None);
        var server = await listener.AcceptAsync();
        return (server, await connecting);
    }

    private static string ReceiveAvailable(Socket s, int atLeast)
    {
        var sb = new StringBuilder();
        var buf = new byte[65536];
        s.ReceiveTimeout = 10_000;
        while (sb.Length < atLeast)
        {
            var n = s.Receive(buf);
            if (n == 0) break;
            sb.Append(Encoding.ASCII.GetString(buf, 0, n));
        }
        return sb.ToString();
    }

    [Theory]
    [InlineData("unix:path=/run/a/socket", "/run/a/socket")]
    [InlineData("unix:path=/tmp/x%2cy,guid=00", "/tmp/x,y")]
    [InlineData("tcp:host=h,port=1;unix:path=/s", "/s")]
    public void UnixAddressesGiveTheirPath(string address, string path) =>
        Assert.Equal(path, PeerStream.UnixEndpoint(address)!.ToString());

    [Fact]
    public void NonUnixAddressGivesNothing() => Assert.Null(PeerStream.UnixEndpoint("tcp:host=localhost,port=1"));

    [Fact]
    public async Task CorkedWritesArriveTogetherAfterTheCorkAndReadsComeBack()
    {
        var (server, stream) = await ConnectAsync();
        using var _ = server;
        await using var __ = stream;

        using (stream.Cork())
        {
            stream.Write("one,"u8);
            stream.Write("two,"u8);
            // Nothing is sent while the cork is held.
            Assert.False(server.Poll(200_000, SelectMode.SelectRead));
        }
        Assert.Equal("one,two,", ReceiveAvailable(server, 8));

        // Uncorked writes from a thread that is not the reader's go out at once.
        stream.Write("three"u8);
        Assert.Equal("three", ReceiveAvailable(server, 5));

        // A read asked for from this thread is done by the stream's reader thread.
        var buffer = new byte[16];
        var read = stream.ReadAsync(buffer.AsMemory());
        server.Send("reply"u8);
        var n = await read.AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("reply", Encoding.ASCII.GetString(buffer, 0, n));

        // The peer closing gives end of stream.
        server.Shutdown(SocketShutdown.Both);
        Assert.Equal(0, await stream.ReadAsync(buffer.AsMemory()).AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task DisposingEndsAPendingRead()
    {
        var (server, stream) = await ConnectAsync();
        using var _ = server;
        var read = stream.ReadAsync(new byte[16].AsMemory()).AsTask();
        await Task.Delay(100);
        Assert.False(read.IsCompleted);
        stream.Dispose();
        Assert.Equal(0, await read.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Throws<ObjectDisposedException>(() => stream.Write("late"u8));
    }
}
