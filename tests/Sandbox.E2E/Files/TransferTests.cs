using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Sandbox.E2E.Infrastructure;
using Sandbox.E2E.ProcessesApi;
using Xunit.Abstractions;

namespace Sandbox.E2E.Files;

/// <summary>Large transfers in constant memory, and a full disk that leaves the old file whole.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class TransferTests(ApplianceFixture fixture, ITestOutputHelper output) : IClassFixture<ApplianceFixture>
{
    private HttpClient Http => fixture.App.Http;

    [Fact]
    public async Task A_256_MiB_upload_and_download_keep_every_byte_with_flat_memory()
    {
        const long size = 256L << 20;
        var dir = Directory.CreateTempSubdirectory("files-big-").FullName;
        var path = Path.Combine(dir, "big.bin");
        try
        {
            using var rss = new RssSampler(fixture.App.Pid);
            var source = new PatternStream(size);
            var content = new StreamContent(source, 1 << 20);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            var clock = Stopwatch.StartNew();
            using (var put = await Http.PutAsync($"/files?path={Uri.EscapeDataString(path)}", content))
                Assert.True(put.StatusCode == HttpStatusCode.Created, await put.Content.ReadAsStringAsync());
            var upMs = clock.ElapsedMilliseconds;
            var sent = source.Hash();
            Assert.Equal(size, new FileInfo(path).Length);

            clock.Restart();
            using var get = await Http.GetAsync($"/files?path={Uri.EscapeDataString(path)}", HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(HttpStatusCode.OK, get.StatusCode);
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            await using (var body = await get.Content.ReadAsStreamAsync())
            {
                var buffer = new byte[1 << 20];
                long total = 0;
                int n;
                while ((n = await body.ReadAsync(buffer)) > 0) { hash.AppendData(buffer, 0, n); total += n; }
                Assert.Equal(size, total);
            }
            var downMs = clock.ElapsedMilliseconds;
            Assert.Equal(Convert.ToHexString(sent), Convert.ToHexString(hash.GetHashAndReset()));
            var (baseline, peak) = rss.Stop();
            output.WriteLine($"256 MiB: upload {size / 1048576.0 / Math.Max(1, upMs) * 1000:F0} MiB/s, download {size / 1048576.0 / Math.Max(1, downMs) * 1000:F0} MiB/s; " +
                             $"appliance RSS {baseline / 1048576.0:F1} MiB before, peak {peak / 1048576.0:F1} MiB (+{(peak - baseline) / 1048576.0:F1})");
            // Flat: a transfer may warm Kestrel's pools and the upload buffer, never hold the file.
            Assert.True(peak - baseline < 48L << 20, $"RSS grew by {(peak - baseline) >> 20} MiB during a {size >> 20} MiB transfer");
        }
        finally { Directory.Delete(dir, true); }
    }

    [SkippableFact]
    public async Task A_full_disk_answers_507_removes_the_partial_file_and_keeps_the_old_one()
    {
        Skip.IfNot(Environment.UserName == "root", "mounting a tmpfs needs root");
        var mount = Directory.CreateTempSubdirectory("files-full-").FullName;
        Sandbox.Testing.Processes.Check("mount", ["-t", "tmpfs", "-o", "size=2m", "tmpfs", mount]);
        try
        {
            var path = Path.Combine(mount, "keep.bin");
            var old = RandomNumberGenerator.GetBytes(300_000);
            await File.WriteAllBytesAsync(path, old);
            var content = new ByteArrayContent(new byte[4 << 20]);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            using var r = await Http.PutAsync($"/files?path={Uri.EscapeDataString(path)}", content);
            var body = await r.Content.ReadAsStringAsync();
            Assert.True(r.StatusCode == HttpStatusCode.InsufficientStorage, $"{(int)r.StatusCode}: {body}");
            Assert.Contains("Insufficient Storage", body);
            Assert.Equal(old, await File.ReadAllBytesAsync(path));
            Assert.Equal(["keep.bin"], Directory.GetFileSystemEntries(mount).Select(Path.GetFileName));
        }
        finally
        {
            Sandbox.Testing.Processes.Run("umount", [mount]);
            Directory.Delete(mount, true);
        }
    }

    /// <summary>Deterministic bytes produced on the fly (never held whole), hashed as they are read.</summary>
    private sealed class PatternStream(long length) : Stream
    {
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        private long _position;
        private ulong _state = 0x9E3779B97F4A7C15;

        public byte[] Hash() => _hash.GetHashAndReset();

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var n = (int)Math.Min(buffer.Length & ~7, length - _position);
            if (n <= 0) return 0;
            for (var i = 0; i < n; i += 8)
            {
                _state ^= _state << 13; _state ^= _state >> 7; _state ^= _state << 17;
                BitConverter.TryWriteBytes(buffer[i..], _state);
            }
            _hash.AppendData(buffer[..n]);
            _position += n;
            return n;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default) => ValueTask.FromResult(Read(buffer.Span));
        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) => Task.FromResult(Read(buffer, offset, count));
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => length;
        public override long Position { get => _position; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}

/// <summary>Samples a process's VmRSS every 20 ms until stopped.</summary>
public sealed class RssSampler : IDisposable
{
    private readonly int _pid;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private long _peak;

    public RssSampler(int pid)
    {
        _pid = pid;
        Baseline = Read();
        _peak = Baseline;
        _loop = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                _peak = Math.Max(_peak, Read());
                try { await Task.Delay(20, _stop.Token); } catch (OperationCanceledException) { }
            }
        });
    }

    public long Baseline { get; }

    public long Read()
    {
        foreach (var line in File.ReadLines($"/proc/{_pid}/status"))
            if (line.StartsWith("VmRSS:")) return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
        return 0;
    }

    public (long Baseline, long Peak) Stop()
    {
        _stop.Cancel();
        _loop.Wait();
        return (Baseline, Math.Max(_peak, Read()));
    }

    public void Dispose() { _stop.Cancel(); try { _loop.Wait(); } catch (AggregateException) { } }
}
