using Sandbox.Common;

namespace Sandbox.Files;

/// <summary>Limits of /files, from <c>SANDBOX_FILES_*</c> (docs/files.md).</summary>
internal sealed class FilesOptions
{
    /// <summary>Largest upload (PUT body or one multipart file), bytes; more is 413 and nothing is kept.</summary>
    public long MaxUploadBytes { get; init; } = 64L << 30;
    /// <summary>Entries one /files/list answers at most (the answer then says <c>truncated</c>).</summary>
    public int MaxListEntries { get; init; } = 10_000;
    /// <summary>Deepest /files/list recursion.</summary>
    public int MaxListDepth { get; init; } = 32;
    /// <summary>Copy buffer of uploads, bytes: the memory an upload holds, whatever its size.</summary>
    public int UploadBufferBytes { get; init; } = 1 << 20;
    /// <summary>A PUT starts the disk write-back of every this many bytes received (sync_file_range), so the
    /// final fsync overlaps the transfer; 0 leaves it all to the fsync.</summary>
    public int WriteBehindBytes { get; init; } = 8 << 20;
    /// <summary>Downloads are read into the connection's output in chunks of this size, bytes.</summary>
    public int DownloadChunkBytes { get; init; } = 1 << 20;
    /// <summary>Most watches open at once (each is an inotify instance).</summary>
    public int MaxWatches { get; init; } = 64;

    public static FilesOptions FromEnvironment(EnvReader r) => new()
    {
        MaxUploadBytes = r.Double("SANDBOX_FILES_MAX_UPLOAD_BYTES", 64L << 30, 0, 1L << 50) is var d ? (long)d : 0,
        MaxListEntries = r.Int("SANDBOX_FILES_MAX_LIST_ENTRIES", 10_000, 1, 10_000_000),
        MaxListDepth = r.Int("SANDBOX_FILES_MAX_LIST_DEPTH", 32, 1, 1024),
        UploadBufferBytes = r.Int("SANDBOX_FILES_UPLOAD_BUFFER_BYTES", 1 << 20, 4096, 64 << 20),
        WriteBehindBytes = r.Int("SANDBOX_FILES_WRITE_BEHIND_BYTES", 8 << 20, 0, 1 << 30),
        DownloadChunkBytes = r.Int("SANDBOX_FILES_DOWNLOAD_CHUNK_BYTES", 1 << 20, 4096, 16 << 20),
        MaxWatches = r.Int("SANDBOX_FILES_MAX_WATCHES", 64, 1, 10_000),
    };
}
