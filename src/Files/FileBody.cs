using System.IO.Pipelines;
using Microsoft.AspNetCore.Http.Features;

namespace Sandbox.Files;

/// <summary>
/// The response body of GET /files: the framework's own (headers, Range, ETag and conditional requests stay
/// with <c>Results.File</c>), except that a file is read straight into the connection's output pipe in large
/// chunks. Kestrel's fallback copies it twice through a 64 KiB buffer (file → array → pipe); this reads it
/// once (file → pipe memory) and the socket sends it from there. Memory: one chunk or two in flight.
/// </summary>
internal sealed class FileBody(IHttpResponseBodyFeature inner, int chunkBytes) : IHttpResponseBodyFeature
{
    public Stream Stream => inner.Stream;
    public PipeWriter Writer => inner.Writer;
    public void DisableBuffering() => inner.DisableBuffering();
    public Task StartAsync(CancellationToken cancellationToken = default) => inner.StartAsync(cancellationToken);
    public Task CompleteAsync() => inner.CompleteAsync();

    public async Task SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken = default)
    {
        using var file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, FileOptions.SequentialScan);
        var end = count is { } c ? offset + c : RandomAccess.GetLength(file);
        await inner.StartAsync(cancellationToken).ConfigureAwait(false);
        var writer = inner.Writer;
        while (offset < end)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var want = (int)Math.Min(chunkBytes, end - offset);
            var memory = writer.GetMemory(want);
            if (memory.Length > want) memory = memory[..want];
            // A page-cache read (the usual case) takes microseconds; a cold disk blocks this thread as
            // FileStream's reads would block one of the pool's.
            var n = RandomAccess.Read(file, memory.Span, offset);
            // The file shrank under us: the promised Content-Length cannot be met, the connection is aborted.
            if (n == 0) throw new IOException($"{path} became shorter while it was sent");
            writer.Advance(n);
            offset += n;
            var flushed = await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
            if (flushed.IsCompleted || flushed.IsCanceled) return; // the client is gone
        }
    }
}
