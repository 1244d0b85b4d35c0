using System.Diagnostics;
using Sandbox.Common;
using Sandbox.Imaging;

namespace Sandbox.Tests.Imaging;

/// <summary>The parallel (banded) PNG encoder: one standard zlib stream that StbImageSharp and Pillow read exactly.</summary>
public sealed class PngBandsTests
{
    private static byte[] Encode(BgraImage image, PngEncoderOptions options)
    {
        using var output = new MemoryStream();
        PngEncoder.Encode(image, output, options);
        return output.ToArray();
    }

    private static (byte[] Bgrx, int Width, int Height) Scene(string name)
    {
        var scenes = TestPixels.FindScenes() ?? throw new FileNotFoundException("tests/fixtures");
        var source = TestPixels.Decode(File.ReadAllBytes(Path.Combine(scenes, name)), alpha: true);
        var bgrx = source.Data;
        for (int i = 0; i < bgrx.Length; i += 4) (bgrx[i], bgrx[i + 2]) = (bgrx[i + 2], bgrx[i]);
        return (bgrx, source.Width, source.Height);
    }

    [Theory]
    [InlineData("office.png", 2)]
    [InlineData("office.png", 3)]
    [InlineData("photo.png", 2)]
    [InlineData("photo.png", 4)]
    public void Fixtures_encoded_in_bands_decode_exactly_with_StbImageSharp_and_Pillow(string name, int threads)
    {
        var (bgrx, w, h) = Scene(name);
        var image = TestPixels.View(bgrx, w, h, w * 4);
        var png = Encode(image, new PngEncoderOptions { Threads = threads });
        PngStructure.Verify(png, w, h, 2);
        var expected = TestPixels.ExpectedRgb(image, false);
        Assert.Equal(expected, TestPixels.Decode(png).Data);
        Assert.Equal(expected, PillowRgb(png));
    }

    [Fact]
    public void Every_filter_mode_level_and_band_count_round_trips()
    {
        const int width = 37, height = 301;   // bands of uneven height
        var pixels = TestPixels.Mixed(width, height, width * 4 + 8, seed: 11);
        var image = TestPixels.View(pixels, width, height, width * 4 + 8);
        foreach (var mode in Enum.GetValues<PngFilterMode>())
            foreach (var level in new[] { 0, 1, 6, 9 })
                foreach (var threads in new[] { 2, 3, 4 })
                    foreach (var alpha in new[] { false, true })
                    {
                        var options = new PngEncoderOptions { Filter = mode, CompressionLevel = level, Threads = threads, IncludeAlpha = alpha };
                        var png = Encode(image, options);
                        PngStructure.Verify(png, width, height, alpha ? 6 : 2);
                        Assert.Equal(TestPixels.ExpectedRgb(image, alpha), TestPixels.Decode(png, alpha).Data);
                    }
    }

    [Fact]
    public void Banded_output_matches_the_serial_encoders_pixels_and_filters()
    {
        const int width = 64, height = 256;
        var pixels = TestPixels.Mixed(width, height, width * 4, seed: 12);
        var image = TestPixels.View(pixels, width, height, width * 4);
        var serial = Encode(image, new PngEncoderOptions { Threads = 1, Filter = PngFilterMode.Adaptive });
        var banded = Encode(image, new PngEncoderOptions { Threads = 4, Filter = PngFilterMode.Adaptive });
        // Same filter choice on every row, the band's first rows included (they see the row above).
        Assert.Equal(PngStructure.FilterTypes(serial, width * 3, height), PngStructure.FilterTypes(banded, width * 3, height));
        Assert.Equal(TestPixels.Decode(serial).Data, TestPixels.Decode(banded).Data);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void Into_a_kept_native_buffer_the_bytes_are_the_same_whatever_the_last_bands_region_held(int threads)
    {
        // The last band deflates into the output buffer's own memory when the plan (from the previous encode) fits,
        // and is copied out first when it does not: a cold buffer, small after large, large after small in a buffer that
        // held a large one, large after small in a new buffer. Every output must be the same bytes as the encode into a MemoryStream.
        var (officeBgrx, ow, oh) = Scene("office.png");
        var (photoBgrx, pw, ph) = Scene("photo.png");
        var office = TestPixels.View(officeBgrx, ow, oh, ow * 4);
        var photo = TestPixels.View(photoBgrx, pw, ph, pw * 4);
        var options = new PngEncoderOptions { Threads = threads };
        var expectedOffice = Encode(office, options);
        var expectedPhoto = Encode(photo, options);
        var kept = new NativeBufferStream();
        long inPlace = Interlocked.Read(ref PngBands.InPlaceJoins), spilled = Interlocked.Read(ref PngBands.SpilledJoins);
        foreach (var (isPhoto, fresh) in new[]
                 {
                     (true, false), (true, false), (false, false), (true, false), (false, true), (true, false),
                     (true, true), (false, false), (false, false),
                 })
        {
            if (fresh)
            {
                kept.Dispose();
                kept = new NativeBufferStream();   // then a photo after an office: the first band outgrows the plan
            }
            kept.Reset();
            PngEncoder.Encode(isPhoto ? photo : office, kept, options);
            Assert.Equal(isPhoto ? expectedPhoto : expectedOffice, kept.Content.ToArray());
        }
        kept.Dispose();
        Assert.True(Interlocked.Read(ref PngBands.InPlaceJoins) > inPlace, "some joins read the region in place");
        Assert.True(Interlocked.Read(ref PngBands.SpilledJoins) > spilled, "some joins copied the region out first");
        Assert.Equal(TestPixels.ExpectedRgb(photo, false), TestPixels.Decode(expectedPhoto).Data);
    }

    [Fact]
    public void A_photo_encoded_again_into_its_buffer_uses_little_more_memory_than_its_bytes()
    {
        var (bgrx, w, h) = Scene("photo.png");
        var image = TestPixels.View(bgrx, w, h, w * 4);
        using var buffer = new NativeBufferStream();
        for (int i = 0; i < 3; i++)
        {
            buffer.Reset();
            PngEncoder.Encode(image, buffer, new PngEncoderOptions { Threads = 2 });
        }
        // The second band was written above the first band's end (an eighth + 64 KiB of slack), not in a buffer of its own.
        Assert.InRange(buffer.HighWater, buffer.Length, buffer.Length + buffer.Length / 4);
    }

    [Fact]
    public void Adler32_combine_equals_the_checksum_of_the_concatenation()
    {
        var rng = new Random(5);
        foreach (var (a, b) in new[] { (0, 0), (1, 0), (0, 7), (100, 65521), (70000, 3), (5552, 200000) })
        {
            var x = new byte[a];
            var y = new byte[b];
            rng.NextBytes(x);
            rng.NextBytes(y);
            Assert.Equal(Adler(x.Concat(y).ToArray()), PngBands.Adler32Combine(Adler(x), Adler(y), b));
        }
    }

    private static uint Adler(byte[] data)
    {
        uint s1 = 1, s2 = 0;
        foreach (var d in data)
        {
            s1 = (s1 + d) % 65521;
            s2 = (s2 + s1) % 65521;
        }
        return (s2 << 16) | s1;
    }

    /// <summary>Debian's Pillow (/usr/bin/python3) decodes the PNG; returns its RGB bytes.</summary>
    private static byte[] PillowRgb(byte[] png)
    {
        var path = Path.Combine(Path.GetTempPath(), $"pngbands-{Guid.NewGuid():N}.png");
        File.WriteAllBytes(path, png);
        try
        {
            var psi = new ProcessStartInfo("/usr/bin/python3")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            psi.ArgumentList.Add("-c");
            psi.ArgumentList.Add("import sys\nfrom PIL import Image\nim = Image.open(sys.argv[1])\nim.load()\nassert im.mode == 'RGB', im.mode\nsys.stdout.buffer.write(im.tobytes())");
            psi.ArgumentList.Add(path);
            using var p = Process.Start(psi)!;
            using var ms = new MemoryStream();
            var stderr = p.StandardError.ReadToEndAsync();
            p.StandardOutput.BaseStream.CopyTo(ms);
            p.WaitForExit();
            Assert.True(p.ExitCode == 0, "Pillow failed: " + stderr.Result);
            return ms.ToArray();
        }
        finally
        {
            File.Delete(path);
        }
    }
}
