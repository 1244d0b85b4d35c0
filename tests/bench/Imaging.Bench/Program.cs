using System.Diagnostics;
using Sandbox.Imaging;
using StbImageSharp;

namespace Sandbox.Bench;

/// <summary>
/// Run from the repository root: dotnet run -c Release --project tests/bench/Imaging.Bench [runs] [levels,comma,separated]
/// Encodes the 1920x1080 scenes (tests/fixtures) with every PNG filter mode and a few levels, plus JPEG and the
/// resampler, and prints the median time and size. Figures, not assertions: run on an idle machine.
/// </summary>
internal static class Program
{
    private static int Main(string[] args)
    {
        int runs = args.Length > 0 && int.TryParse(args[0], out var r) ? r : 31;
        string scenes = FindScenes();
        int[] levels = args.Length > 1 ? args[1].Split(',').Select(int.Parse).ToArray() : [1, 6];
        Console.WriteLine($"runs={runs} (median), Vector128 accelerated={System.Runtime.Intrinsics.Vector128.IsHardwareAccelerated}");
        foreach (var name in new[] { "office", "photo" })
        {
            var (pixels, width, height) = LoadBgrx(Path.Combine(scenes, name + ".png"));
            var image = new BgraImage(pixels, width, height, width * 4);
            Console.WriteLine($"\n{name}.png {width}x{height}");
            Console.WriteLine($"{"filter",-9} {"level",5} {"ms",8} {"bytes",10}");
            foreach (int level in levels)
                foreach (var mode in Enum.GetValues<PngFilterMode>())
                {
                    var options = new PngEncoderOptions { CompressionLevel = level, Filter = mode };
                    var (ms, bytes) = Measure(runs, pixels, width, height, s => PngEncoder.Encode(new BgraImage(pixels, width, height, width * 4), s, options));
                    Console.WriteLine($"{mode,-9} {level,5} {ms,8:F2} {bytes,10}");
                }
            // PNG by core count: the banded encoder with 1 and 2 bands (default filter, level 1).
            double oneBand = 0;
            foreach (int threads in new[] { 1, 2 })
            {
                var options = new PngEncoderOptions { Threads = threads };
                var (ms, bytes) = Measure(runs, pixels, width, height, s => PngEncoder.Encode(new BgraImage(pixels, width, height, width * 4), s, options));
                if (threads == 1) oneBand = ms;
                Console.WriteLine($"{"png " + threads + " band(s)",-15} {ms,8:F2} {bytes,10}  {oneBand / ms:F2}x vs 1 band");
            }
            var (jms, jbytes) = Measure(runs, pixels, width, height, s => JpegEncoder.Encode(new BgraImage(pixels, width, height, width * 4), s, 80));
            Console.WriteLine($"{"jpeg q80",-15} {jms,8:F2} {jbytes,10}");
            var (rms, _) = Measure(runs, pixels, width, height, sink =>
            {
                using var scaled = Resampler.Fit(new BgraImage(pixels, width, height, width * 4), 1280, 1280, out _);
            });
            Console.WriteLine($"{"resample->1280x720",-15} {rms,8:F2}");
            var (ams, _) = Measure(runs, pixels, width, height, sink =>
            {
                var img = new BgraImage(pixels, width, height, width * 4);
                Annotation.Draw(img, 960, 540);
            });
            Console.WriteLine($"{"annotation",-15} {ams,8:F3}");
            GC.KeepAlive(image.Width);
        }
        return 0;
    }

    private static (double Ms, long Bytes) Measure(int runs, byte[] pixels, int width, int height, Action<Stream> encode)
    {
        using var sink = new MemoryStream(16 << 20);
        var times = new double[runs];
        // Warm-up runs let tiered compilation reach the optimized code before timing.
        for (int i = 0; i < 5; i++) { sink.SetLength(0); encode(sink); }
        for (int i = 0; i < runs; i++)
        {
            sink.SetLength(0);
            long start = Stopwatch.GetTimestamp();
            encode(sink);
            times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        Array.Sort(times);
        return (times[runs / 2], sink.Length);
    }

    private static (byte[] Pixels, int Width, int Height) LoadBgrx(string path)
    {
        var decoded = ImageResult.FromMemory(File.ReadAllBytes(path), ColorComponents.RedGreenBlueAlpha);
        var data = decoded.Data;
        for (int i = 0; i < data.Length; i += 4) (data[i], data[i + 2]) = (data[i + 2], data[i]);
        return (data, decoded.Width, decoded.Height);
    }

    private static string FindScenes()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "fixtures");
            if (File.Exists(Path.Combine(candidate, "office.png"))) return candidate;
        }
        throw new FileNotFoundException("tests/fixtures/office.png not found above " + AppContext.BaseDirectory);
    }
}
