using Sandbox.Capture;

namespace Sandbox.Tests.Capture;

public sealed class EncodeBufferTests
{
    [Fact]
    public void A_held_buffer_keeps_its_bytes_until_the_last_holder_lets_go()
    {
        var buffer = new EncodeBuffer();
        buffer.Content.Write(new byte[] { 1, 2, 3 });
        Assert.False(buffer.Shared);
        var lease = new ScreenshotLease(new ScreenshotInfo([0, 0], [1, 1], [1, 1], [1, 1], null, "png", 3), buffer.Hold());
        Assert.True(buffer.Shared);
        buffer.Dispose();   // the service moves on to a new buffer
        var output = new MemoryStream();
        lease.Bytes.WriteContentTo(output);
        Assert.Equal(new byte[] { 1, 2, 3 }, output.ToArray());
        Assert.NotEqual(0, buffer.Content.Capacity);
        lease.Dispose();    // the last holder: the memory is freed
        Assert.Equal(0, buffer.Content.Capacity);
        lease.Dispose();    // twice is harmless
        Assert.Throws<ObjectDisposedException>(() => lease.Bytes);
    }
}
