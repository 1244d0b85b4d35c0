using Sandbox.Capture;

namespace Sandbox.Tests.Capture;

public sealed class EncodeBufferTests
{
    [Fact]
    public void Writes_across_segments_come_back_in_order()
    {
        var data = new byte[EncodeBuffer.SegmentSize * 2 + 123];
        new Random(7).NextBytes(data);
        using var buffer = new EncodeBuffer();
        buffer.Write(data.AsSpan(0, 10));
        buffer.Write(data.AsSpan(10, EncodeBuffer.SegmentSize));   // crosses the first boundary
        buffer.Write(data, 10 + EncodeBuffer.SegmentSize, data.Length - 10 - EncodeBuffer.SegmentSize);
        Assert.Equal(data.Length, buffer.Length);
        Assert.Equal(3, buffer.SegmentCount);
        var output = new MemoryStream();
        buffer.WriteContentTo(output);
        Assert.Equal(data, output.ToArray());
    }

    [Fact]
    public void Reset_reuses_the_segments_and_Release_lets_them_go()
    {
        using var buffer = new EncodeBuffer();
        buffer.Write(new byte[EncodeBuffer.SegmentSize * 3]);
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
}
