using Sandbox.Common;

namespace Sandbox.Tests.Capture;

public sealed class NativeBufferStreamTests
{
    [Fact]
    public void Writes_across_segments_come_back_in_order()
    {
        var data = new byte[NativeBufferStream.SegmentSize * 2 + 123];
        new Random(7).NextBytes(data);
        using var buffer = new NativeBufferStream();
        buffer.Write(data.AsSpan(0, 10));
        buffer.Write(data.AsSpan(10, NativeBufferStream.SegmentSize));   // crosses the first boundary
        buffer.Write(data, 10 + NativeBufferStream.SegmentSize, data.Length - 10 - NativeBufferStream.SegmentSize);
        Assert.Equal(data.Length, buffer.Length);
        Assert.True(buffer.Capacity >= data.Length);
        var output = new MemoryStream();
        buffer.WriteContentTo(output);
        Assert.Equal(data, output.ToArray());
    }

    [Fact]
    public void Spare_memory_past_the_content_survives_growth_and_counts_in_the_high_water_mark()
    {
        using var buffer = new NativeBufferStream();
        buffer.Write(new byte[] { 9, 9 });
        buffer.Reserve(100_000);
        Assert.True(buffer.Capacity >= 100_000);
        buffer.Spare(50_000, 3).Fill(7);
        buffer.NoteWritten(50_003);
        buffer.Reserve(3_000_000);   // grows (may move): the bytes past the content stay
        Assert.Equal(new byte[] { 7, 7, 7 }, buffer.Spare(50_000, 3).ToArray());
        Assert.Equal(2, buffer.Length);
        Assert.Equal(50_003, buffer.HighWater);
        Assert.Throws<ArgumentOutOfRangeException>(() => buffer.Spare(buffer.Capacity - 1, 2).Length);
        buffer.Reset();
        Assert.Equal(50_003, buffer.HighWater);   // the memory is kept
        buffer.Release();
        Assert.Equal(0, buffer.HighWater);
    }

    [Fact]
    public void Reset_keeps_the_memory_and_Release_frees_it()
    {
        using var buffer = new NativeBufferStream();
        buffer.Write(new byte[NativeBufferStream.SegmentSize * 3]);
        var grown = buffer.Capacity;
        buffer.Reset();
        Assert.Equal(0, buffer.Length);
        buffer.Write(new byte[] { 1, 2, 3 });
        Assert.Equal(grown, buffer.Capacity);   // a smaller encode keeps what the larger one grew
        var output = new MemoryStream();
        buffer.WriteContentTo(output);
        Assert.Equal(new byte[] { 1, 2, 3 }, output.ToArray());
        buffer.Release();
        Assert.Equal(0, buffer.Length);
        Assert.Equal(0, buffer.Capacity);
    }

    [Fact]
    public async Task Async_copy_and_base64_see_the_same_bytes()
    {
        var data = new byte[NativeBufferStream.SegmentSize + 5];
        new Random(3).NextBytes(data);
        using var buffer = new NativeBufferStream();
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
    [InlineData(NativeBufferStream.SegmentSize - 1)]
    [InlineData(NativeBufferStream.SegmentSize)]
    [InlineData(NativeBufferStream.SegmentSize + 1)]
    [InlineData(NativeBufferStream.SegmentSize * 3 + 2)]
    [InlineData(256 * 1024 + 1)]
    [InlineData(1024 * 1024 + 7)]
    public void Base64_and_async_copy_of_any_length(int length)
    {
        // Lengths around the async pieces and the buffer's growth steps (256 KiB, doubling).
        var data = new byte[length];
        new Random(length).NextBytes(data);
        using var buffer = new NativeBufferStream();
        buffer.Write(data.AsSpan(0, length / 2));
        buffer.Write(data.AsSpan(length / 2));
        Assert.Equal(Convert.ToBase64String(data), buffer.ToBase64());
        var output = new MemoryStream();
        buffer.WriteToAsync(output, CancellationToken.None).GetAwaiter().GetResult();
        Assert.Equal(data, output.ToArray());
    }

    [Fact]
    public void Utf8JsonWriter_writes_a_large_document_straight_into_it()
    {
        var blob = new byte[3 * 1024 * 1024 + 17];   // grows the buffer several times while the writer holds memory
        new Random(11).NextBytes(blob);
        using var buffer = new NativeBufferStream();
        using (var w = new System.Text.Json.Utf8JsonWriter((System.Buffers.IBufferWriter<byte>)buffer))
        {
            w.WriteStartObject();
            w.WriteString("name"u8, "shot");
            w.WriteBase64String("blob"u8, blob);
            w.WriteEndObject();
        }
        using var doc = System.Text.Json.JsonDocument.Parse(buffer.ContentMemory);
        Assert.Equal("shot", doc.RootElement.GetProperty("name").GetString());
        Assert.Equal(blob, doc.RootElement.GetProperty("blob").GetBytesFromBase64());
        Assert.Throws<ArgumentOutOfRangeException>(() => buffer.Advance((int)(buffer.Capacity - buffer.Length) + 1));
    }
}
