using System.Buffers.Binary;
using System.IO.Compression;
using Sandbox.Imaging;

namespace Sandbox.Tests.Imaging;

public sealed class PngEncoderTests
{
    // Modes travel as names: the enum is internal and cannot appear in a public test signature.
    public static TheoryData<string, int> ModesAndLevels()
    {
        var data = new TheoryData<string, int>();
        foreach (var mode in Enum.GetNames<PngFilterMode>())
            foreach (int level in new[] { 0, 1, 9 })
                data.Add(mode, level);
        return data;
    }

    public static TheoryData<int, int, int> Sizes() => new()
    {
        // width, height, extra stride bytes
        { 1, 1, 0 }, { 3, 7, 0 }, { 5, 3, 0 }, { 7, 2, 12 }, { 17, 9, 4 }, { 33, 5, 0 }, { 64, 4, 0 }, { 101, 13, 36 },
    };

    private static byte[] Encode(BgraImage image, PngEncoderOptions options)
    {
        using var output = new MemoryStream();
        PngEncoder.Encode(image, output, options);
        return output.ToArray();
    }

    private static void AssertRoundTrip(BgraImage image, PngEncoderOptions options)
    {
        var png = Encode(image, options);
        var decoded = TestPixels.Decode(png, options.IncludeAlpha);
        Assert.Equal(image.Width, decoded.Width);
        Assert.Equal(image.Height, decoded.Height);
        Assert.Equal(TestPixels.ExpectedRgb(image, options.IncludeAlpha), decoded.Data);
        PngStructure.Verify(png, image.Width, image.Height, options.IncludeAlpha ? 6 : 2);
    }

    [Theory]
    [MemberData(nameof(ModesAndLevels))]
    public void Every_filter_mode_and_level_round_trips_to_exact_pixels(string modeName, int level)
    {
        var mode = Enum.Parse<PngFilterMode>(modeName);
        const int width = 45, height = 31;
        var pixels = TestPixels.Mixed(width, height, width * 4, seed: 1);
        AssertRoundTrip(TestPixels.View(pixels, width, height, width * 4), new PngEncoderOptions { Filter = mode, CompressionLevel = level });
    }

    [Theory]
    [MemberData(nameof(Sizes))]
    public void Odd_sizes_and_padded_strides_round_trip_in_every_mode(int width, int height, int pad)
    {
        int stride = width * 4 + pad;
        var pixels = TestPixels.Noise(width, height, stride, seed: width * 1000 + height);
        foreach (var mode in Enum.GetValues<PngFilterMode>())
        {
            AssertRoundTrip(TestPixels.View(pixels, width, height, stride), new PngEncoderOptions { Filter = mode });
            AssertRoundTrip(TestPixels.View(pixels, width, height, stride), new PngEncoderOptions { Filter = mode, IncludeAlpha = true });
        }
    }

    [Fact]
    public void Cropped_views_encode_only_their_pixels()
    {
        const int width = 40, height = 30;
        var pixels = TestPixels.Mixed(width, height, width * 4, seed: 2);
        foreach (var mode in Enum.GetValues<PngFilterMode>())
        {
            AssertRoundTrip(TestPixels.View(pixels, width, height, width * 4).Crop(3, 5, 13, 11), new PngEncoderOptions { Filter = mode });
            AssertRoundTrip(TestPixels.View(pixels, width, height, width * 4).Crop(39, 29, 1, 1), new PngEncoderOptions { Filter = mode });
        }
    }

    [Fact]
    public void Alpha_mode_keeps_the_fourth_byte_as_alpha()
    {
        var pixels = new byte[] { 10, 20, 30, 0, 40, 50, 60, 128, 70, 80, 90, 255 };
        var png = Encode(TestPixels.View(pixels, 3, 1, 12), new PngEncoderOptions { IncludeAlpha = true, CompressionLevel = 0 });
        Assert.Equal(new byte[] { 30, 20, 10, 0, 60, 50, 40, 128, 90, 80, 70, 255 }, TestPixels.Decode(png, alpha: true).Data);
        PngStructure.Verify(png, 3, 1, 6);
    }

    [Theory]
    [InlineData("None", 0)]
    [InlineData("Sub", 1)]
    [InlineData("Up", 2)]
    [InlineData("Average", 3)]
    [InlineData("Paeth", 4)]
    public void A_fixed_filter_mode_uses_that_filter_on_every_row(string modeName, int filterType)
    {
        var mode = Enum.Parse<PngFilterMode>(modeName);
        var pixels = TestPixels.Mixed(20, 12, 80, seed: 3);
        var png = Encode(TestPixels.View(pixels, 20, 12, 80), new PngEncoderOptions { Filter = mode });
        var rows = PngStructure.FilterTypes(png, 20 * 3, 12);
        Assert.All(rows, t => Assert.Equal(filterType, t));
    }

    [Fact]
    public void Adaptive_mode_mixes_filters_on_mixed_content()
    {
        var pixels = TestPixels.Mixed(64, 40, 256, seed: 4);
        var png = Encode(TestPixels.View(pixels, 64, 40, 256), new PngEncoderOptions { Filter = PngFilterMode.Adaptive });
        Assert.True(PngStructure.FilterTypes(png, 64 * 3, 40).Distinct().Count() >= 3);
    }

    [Fact]
    public void Auto_mode_only_uses_none_sub_up_and_average()
    {
        var pixels = TestPixels.Mixed(64, 40, 256, seed: 5);
        var png = Encode(TestPixels.View(pixels, 64, 40, 256), new PngEncoderOptions());
        var types = PngStructure.FilterTypes(png, 64 * 3, 40);
        Assert.All(types, t => Assert.InRange(t, 0, 3));
        Assert.True(types.Distinct().Count() >= 2);
    }

    [Fact]
    public void Large_output_is_split_into_full_64_KiB_IDAT_chunks_with_valid_CRCs()
    {
        const int width = 300, height = 200;   // noise at level 0: ~180 KB of IDAT data
        var pixels = TestPixels.Noise(width, height, width * 4, seed: 6);
        var png = Encode(TestPixels.View(pixels, width, height, width * 4), new PngEncoderOptions { CompressionLevel = 0, Filter = PngFilterMode.None });
        var chunks = PngStructure.Verify(png, width, height, 2);
        var idat = chunks.Where(c => c.Type == "IDAT").ToList();
        Assert.True(idat.Count >= 3);
        Assert.All(idat.SkipLast(1), c => Assert.Equal(PngChunkStream.DefaultChunkSize, c.Length));
        Assert.InRange(idat[^1].Length, 1, PngChunkStream.DefaultChunkSize);
        Assert.Equal(TestPixels.ExpectedRgb(TestPixels.View(pixels, width, height, width * 4), false), TestPixels.Decode(png).Data);
    }

    [Theory]
    [InlineData("Auto", false, 1)]
    [InlineData("Auto", true, 1)]
    [InlineData("Adaptive", false, 1)]
    [InlineData("Auto", false, 2)]
    public void Rows_longer_than_a_deflate_batch_and_batches_of_many_rows_round_trip(string mode, bool alpha, int threads)
    {
        // 24,000 pixels: one RGB(A) row (72,001 or 96,001 bytes with its filter byte) is more than a whole batch;
        // 700 pixels: ~31 rows per batch and a partial last one.
        foreach (var (width, height) in new[] { (24_000, 3), (700, 200) })
        {
            var pixels = TestPixels.Mixed(width, height, width * 4, seed: width + height);
            AssertRoundTrip(TestPixels.View(pixels, width, height, width * 4),
                new PngEncoderOptions { Filter = Enum.Parse<PngFilterMode>(mode), IncludeAlpha = alpha, Threads = threads });
        }
    }

    [Fact]
    public void Writes_to_a_non_seekable_stream()
    {
        var pixels = TestPixels.Noise(8, 8, 32, seed: 7);
        using var inner = new MemoryStream();
        using (var forwardOnly = new ForwardOnlyStream(inner))
            PngEncoder.Encode(TestPixels.View(pixels, 8, 8, 32), forwardOnly);
        Assert.Equal(TestPixels.ExpectedRgb(TestPixels.View(pixels, 8, 8, 32), false), TestPixels.Decode(inner.ToArray()).Data);
    }

    [Fact]
    public void Invalid_arguments_are_rejected()
    {
        var pixels = new byte[16];
        using var output = new MemoryStream();
        Assert.Throws<ArgumentOutOfRangeException>(() => PngEncoder.Encode(TestPixels.View(pixels, 2, 2, 8), output, new PngEncoderOptions { CompressionLevel = 10 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => PngEncoder.Encode(TestPixels.View(pixels, 2, 2, 8), output, new PngEncoderOptions { CompressionLevel = -1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => PngEncoder.Encode(TestPixels.View(pixels, 2, 2, 8), output, new PngEncoderOptions { Filter = (PngFilterMode)99 }));
        Assert.Throws<ArgumentException>(() => PngEncoder.Encode(TestPixels.View(pixels, 0, 2, 8), output));
        Assert.Equal(0, output.Length);
    }

    [Fact]
    public void Scenes_round_trip_exactly_with_the_default_options()
    {
        var scenes = TestPixels.FindScenes();
        if (scenes is null) return;   // the shared scenes are optional outside the project machines
        foreach (var name in new[] { "office.png", "photo.png" })
        {
            var source = TestPixels.Decode(File.ReadAllBytes(Path.Combine(scenes, name)), alpha: true);
            var bgrx = source.Data;
            for (int i = 0; i < bgrx.Length; i += 4) (bgrx[i], bgrx[i + 2]) = (bgrx[i + 2], bgrx[i]);
            AssertRoundTrip(TestPixels.View(bgrx, source.Width, source.Height, source.Width * 4), PngEncoderOptions.Default);
        }
    }

    private sealed class ForwardOnlyStream(Stream inner) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);
    }
}

/// <summary>An independent reader of PNG chunk structure, with its own CRC-32 (table driven, reflected 0xEDB88320).</summary>
internal static class PngStructure
{
    public sealed record Chunk(string Type, int Length, int DataOffset);

    private static readonly uint[] CrcTable = BuildTable();

    private static uint[] BuildTable()
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[n] = c;
        }
        return table;
    }

    public static uint Crc(ReadOnlySpan<byte> data)
    {
        uint c = 0xFFFFFFFFu;
        foreach (byte b in data) c = CrcTable[(c ^ b) & 0xFF] ^ (c >> 8);
        return c ^ 0xFFFFFFFFu;
    }

    /// <summary>Checks signature, chunk order, IHDR fields and every CRC; returns the chunks.</summary>
    public static List<Chunk> Verify(byte[] png, int width, int height, int colourType)
    {
        Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }, png[..8]);
        var chunks = new List<Chunk>();
        int pos = 8;
        while (pos < png.Length)
        {
            Assert.True(pos + 12 <= png.Length, "truncated chunk header");
            int length = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(pos));
            string type = System.Text.Encoding.ASCII.GetString(png, pos + 4, 4);
            Assert.True(pos + 12 + length <= png.Length, $"truncated {type}");
            uint stored = BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(pos + 8 + length));
            Assert.Equal(Crc(png.AsSpan(pos + 4, 4 + length)), stored);
            chunks.Add(new Chunk(type, length, pos + 8));
            pos += 12 + length;
        }
        Assert.Equal(png.Length, pos);
        Assert.Equal("IHDR", chunks[0].Type);
        Assert.Equal(13, chunks[0].Length);
        var ihdr = png.AsSpan(chunks[0].DataOffset, 13);
        Assert.Equal(width, BinaryPrimitives.ReadInt32BigEndian(ihdr));
        Assert.Equal(height, BinaryPrimitives.ReadInt32BigEndian(ihdr[4..]));
        Assert.Equal(new byte[] { 8, (byte)colourType, 0, 0, 0 }, ihdr[8..].ToArray());
        Assert.Equal("IEND", chunks[^1].Type);
        Assert.Equal(0, chunks[^1].Length);
        var middle = chunks.Skip(1).SkipLast(1).ToList();
        Assert.NotEmpty(middle);
        Assert.All(middle, c => Assert.Equal("IDAT", c.Type));
        return chunks;
    }

    /// <summary>The filter-type byte of every row, read by inflating the IDAT data.</summary>
    public static List<int> FilterTypes(byte[] png, int rowBytes, int height)
    {
        var data = new MemoryStream();
        foreach (var chunk in Verify(png, rowBytes / 3, height, 2).Where(c => c.Type == "IDAT"))
            data.Write(png, chunk.DataOffset, chunk.Length);
        data.Position = 0;
        using var inflate = new ZLibStream(data, CompressionMode.Decompress);
        var raw = new MemoryStream();
        inflate.CopyTo(raw);
        Assert.Equal((rowBytes + 1) * height, raw.Length);
        var bytes = raw.ToArray();
        return Enumerable.Range(0, height).Select(y => (int)bytes[y * (rowBytes + 1)]).ToList();
    }
}
