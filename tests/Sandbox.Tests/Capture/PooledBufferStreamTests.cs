using Sandbox.Common;

namespace Sandbox.Tests.Capture;

public sealed class PooledBufferStreamTests
{
    [Fact]
    public void Writes_across_segments_come_back_in_order()
    {
        var data = new byte[PooledBufferStream.SegmentSize * 2 + 123];
        new Random(7).NextBytes(data);
        using var buffer = new PooledBufferStream();
        buffer.Write(data.AsSpan(0, 10));
        buffer.Write(data.AsSpan(10, PooledBufferStream.SegmentSize));   // crosses the first boundary
        buffer.Write(data, 10 + PooledBufferStream.SegmentSize, data.Length - 10 - PooledBufferStream.SegmentSize);
        Assert.Equal(data.Length, buffer.Length);
        Assert.Equal(3, buffer.SegmentCount);
        var output = new MemoryStream();
        buffer.WriteContentTo(output);
        Assert.Equal(data, output.ToArray());
    }

    [Fact]
    public void Reset_keeps_the_segments_and_Release_returns_them()
    {
        using var buffer = new PooledBufferStream();
        buffer.Write(new byte[PooledBufferStream.SegmentSize * 3]);
        buffer.Reset();
        Assert.Equal(0, buffer.Length);
        buffer.Write(new byte[] { 1, 2, 3 });
        Assert.Equal(3, buffer.SegmentCount);   // a smaller encode keeps what the larger one grew
        var output = new MemoryStream();
        buffer.WriteContentTo(output);
        Assert.Equal(new byte[] { 1, 2, 3 }, output.ToArray());
        buffer.Release();
        Assert.Equal(0, buffer.Length);
        Assert.Equal(0, buffer.SegmentCount);
    }

    [Fact]
    public async Task Async_copy_and_base64_see_the_same_bytes()
    {
        var data = new byte[PooledBufferStream.SegmentSize + 5];
        new Random(3).NextBytes(data);
        using var buffer = new PooledBufferStream();
        buffer.Write(data);
        var output = new MemoryStream();
        await buffer.WriteToAsync(output, CancellationToken.None);
        Assert.Equal(data, output.ToArray());
        Assert.Equal(Convert.ToBase64String(data), buffer.ToBase64());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(PooledBufferStream.SegmentSize - 1)]
    [InlineData(PooledBufferStream.SegmentSize)]
    [InlineData(PooledBufferStream.SegmentSize + 1)]
    [InlineData(PooledBufferStream.SegmentSize * 3 + 2)]
    public void Base64_is_encoded_across_segment_boundaries(int length)
    {
        // 65536 is not a multiple of 3: every segment boundary splits a 3-byte group differently.
        var data = new byte[length];
        new Random(length).NextBytes(data);
        using var buffer = new PooledBufferStream();
        buffer.Write(data);
        Assert.Equal(Convert.ToBase64String(data), buffer.ToBase64());
    }
}
