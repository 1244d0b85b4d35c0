using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;
using Sandbox.Common;
using Sandbox.Native;

namespace Sandbox.Files;

/// <summary>
/// The file system for agents: stat, list, read, atomic streaming writes, move, mkdir, delete. Paths are
/// absolute, <c>~</c>-prefixed or relative to the service user's home. Errors are <see cref="SandboxException"/>s:
/// NotFound for a missing path, Conflict for an existing one, BadRequest for a directory where a file is
/// expected, StorageFull when the disk is, TooLarge above <see cref="FilesOptions.MaxUploadBytes"/>.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
internal sealed class FileService(FilesOptions options)
{
    private const UnixFileMode FileDefault = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode DirDefault = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    public FilesOptions Options => options;

    public static string Resolve(string? path, string field = "path") => HomePath.Resolve(path, field);

    public FileEntry Stat(string path)
    {
        var info = Info(path);
        if (!info.Exists && info.LinkTarget is null) throw SandboxException.NotFound($"{path}: no such file or directory");
        return Entry(info);
    }

    /// <summary>A regular file to read (symlinks followed): NotFound, or BadRequest for a directory.</summary>
    public FileInfo ReadableFile(string path)
    {
        var info = new FileInfo(path);
        if (Directory.Exists(path)) throw SandboxException.BadField("path", $"{path} is a directory (list it with /files/list)");
        if (!info.Exists) throw SandboxException.NotFound($"{path}: no such file");
        var target = info.LinkTarget is null ? info : (FileInfo?)info.ResolveLinkTarget(true) ?? info;
        if (!target.Exists) throw SandboxException.NotFound($"{path}: dangling symbolic link");
        return (FileInfo)target;
    }

    public FileList List(string path, int depth)
    {
        if (depth < 1 || depth > options.MaxListDepth) throw SandboxException.BadField("depth", $"expected 1 to {options.MaxListDepth}");
        if (!Directory.Exists(path))
        {
            if (File.Exists(path)) throw SandboxException.BadField("path", $"{path} is a file, not a directory");
            throw SandboxException.NotFound($"{path}: no such directory");
        }
        var entries = new List<FileEntry>();
        var truncated = false;
        Walk(path, depth);
        return new FileList(path, entries, truncated);

        void Walk(string dir, int left)
        {
            IEnumerable<FileSystemInfo> children;
            try { children = new DirectoryInfo(dir).EnumerateFileSystemInfos().OrderBy(i => i.Name, StringComparer.Ordinal).ToList(); }
            catch (Exception e) when (e is UnauthorizedAccessException or IOException)
            {
                if (dir == path) throw Map(e, dir);
                return; // an unreadable subdirectory is listed as an entry but not entered
            }
            foreach (var child in children)
            {
                if (entries.Count >= options.MaxListEntries) { truncated = true; return; }
                var entry = Entry(child);
                entries.Add(entry);
                if (left > 1 && entry.Type == "directory") Walk(child.FullName, left - 1);
            }
        }
    }

    /// <summary>
    /// Streams <paramref name="body"/> into <paramref name="path"/> atomically: a temp file in the same
    /// directory, fsync, rename over the target. Memory is one buffer whatever the size. On any failure
    /// (disk full, too large, client gone) the temp file is removed and the old file is left as it was.
    /// </summary>
    public Task<FileEntry> WriteAsync(string path, Stream body, bool mkdirs, UnixFileMode? mode, CancellationToken ct) =>
        WriteAtomicallyAsync(path, mkdirs, mode, async file =>
        {
            var buffer = ArrayPool<byte>.Shared.Rent(options.UploadBufferBytes);
            try
            {
                long total = 0;
                while (true)
                {
                    var n = await body.ReadAsync(buffer, ct).ConfigureAwait(false);
                    if (n == 0) return;
                    CheckSize(total += n);
                    await GuardAsync(() => RandomAccess.WriteAsync(file, buffer.AsMemory(0, n), total - n, ct), path).ConfigureAwait(false);
                }
            }
            finally { ArrayPool<byte>.Shared.Return(buffer); }
        }, ct);

    /// <summary>
    /// As <see cref="WriteAsync(string, Stream, bool, UnixFileMode?, CancellationToken)"/>, from a pipe (a PUT's
    /// body as the server received it): its buffers are written to the file as they are, several at once with
    /// one <c>pwritev</c>, with no copy in between; what the pipe holds (the server's request buffer) is the memory.
    /// </summary>
    public Task<FileEntry> WriteAsync(string path, PipeReader body, bool mkdirs, UnixFileMode? mode, CancellationToken ct) =>
        WriteAtomicallyAsync(path, mkdirs, mode, async file =>
        {
            var batch = new List<ReadOnlyMemory<byte>>(64);
            var least = Math.Min(options.UploadBufferBytes, 256 << 10);
            long total = 0, flushed = 0;
            while (true)
            {
                var read = await body.ReadAtLeastAsync(least, ct).ConfigureAwait(false);
                var buffer = read.Buffer;
                try
                {
                    if (!buffer.IsEmpty)
                    {
                        CheckSize(total + buffer.Length);
                        foreach (var segment in buffer)
                        {
                            batch.Add(segment);
                            if (batch.Count == 256) await Flush().ConfigureAwait(false);
                        }
                        await Flush().ConfigureAwait(false);
                    }
                }
                finally { body.AdvanceTo(buffer.End); }
                if (read.IsCompleted || read.IsCanceled) return;
            }

            async Task Flush()
            {
                if (batch.Count == 0) return;
                long n = 0;
                foreach (var b in batch) n += b.Length;
                await GuardAsync(() => RandomAccess.WriteAsync(file, batch, total, ct), path).ConfigureAwait(false);
                total += n;
                batch.Clear();
                // The disk starts on what has arrived while the rest is still on the wire, so the fsync at the
                // end has little left to do (the upload takes about the longer of the two, not their sum).
                if (options.WriteBehindBytes > 0 && total - flushed >= options.WriteBehindBytes)
                {
                    Libc.sync_file_range((int)file.DangerousGetHandle(), flushed, total - flushed, Libc.SYNC_FILE_RANGE_WRITE);
                    flushed = total;
                }
            }
        }, ct);

    private void CheckSize(long total)
    {
        if (total > options.MaxUploadBytes)
            throw SandboxException.TooLarge($"the upload is larger than {options.MaxUploadBytes} bytes (SANDBOX_FILES_MAX_UPLOAD_BYTES)");
    }

    private async Task<FileEntry> WriteAtomicallyAsync(string path, bool mkdirs, UnixFileMode? mode, Func<SafeFileHandle, Task> copy, CancellationToken ct)
    {
        if (Directory.Exists(path)) throw SandboxException.BadField("path", $"{path} is a directory");
        var dir = Path.GetDirectoryName(path) ?? "/";
        if (!Directory.Exists(dir))
        {
            if (!mkdirs) throw SandboxException.NotFound($"{dir}: no such directory (mkdirs=true creates it)");
            Guard(() => Directory.CreateDirectory(dir, DirDefault), dir);
        }
        var keepMode = mode ?? (File.Exists(path) ? SafeMode(path) : FileDefault);
        var temp = Path.Combine(dir, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.part");
        var done = false;
        try
        {
            var stream = Guard(() => new FileStream(temp, new FileStreamOptions
            {
                Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None,
                BufferSize = 0, UnixCreateMode = FileDefault,
            }), temp);
            using (stream)
            {
                var file = stream.SafeFileHandle; // written with RandomAccess at explicit offsets
                await copy(file).ConfigureAwait(false);
                ct.ThrowIfCancellationRequested();
                if (Libc.fsync((int)file.DangerousGetHandle()) != 0)
                {
                    var errno = Libc.LastError();
                    if (errno is Errno.ENOSPC or Errno.EDQUOT) throw SandboxException.StorageFull($"{path}: no space left on the device");
                    throw SandboxException.Conflict($"{path}: fsync failed (errno {(int)errno})");
                }
            }
            Guard(() => { File.SetUnixFileMode(temp, keepMode); return 0; }, temp);
            Guard(() => { File.Move(temp, path, overwrite: true); return 0; }, path);
            done = true;
            return Entry(new FileInfo(path));
        }
        finally
        {
            if (!done) try { File.Delete(temp); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
    }

    public FileEntry Move(string from, string to, bool overwrite, bool mkdirs)
    {
        var source = Info(from);
        if (!source.Exists && source.LinkTarget is null) throw SandboxException.NotFound($"{from}: no such file or directory");
        if (from == to) return Entry(source);
        if (to.StartsWith(from + "/", StringComparison.Ordinal)) throw SandboxException.BadField("to", "cannot move a directory into itself");
        var target = Info(to);
        var targetExists = target.Exists || target.LinkTarget is not null;
        if (targetExists && !overwrite) throw SandboxException.Conflict($"{to} exists (overwrite=true replaces it)");
        var dir = Path.GetDirectoryName(to) ?? "/";
        if (!Directory.Exists(dir))
        {
            if (!mkdirs) throw SandboxException.NotFound($"{dir}: no such directory (mkdirs=true creates it)");
            Guard(() => Directory.CreateDirectory(dir, DirDefault), dir);
        }
        Guard(() =>
        {
            if (source is DirectoryInfo && source.LinkTarget is null)
            {
                if (targetExists)
                {
                    if (target is not DirectoryInfo) throw SandboxException.Conflict($"{to} is a file; a directory cannot replace it");
                    Directory.Delete(to, recursive: false); // rename(2) replaces only an empty directory
                }
                Directory.Move(from, to);
            }
            else
            {
                if (targetExists && target is DirectoryInfo && target.LinkTarget is null)
                    throw SandboxException.Conflict($"{to} is a directory; a file cannot replace it");
                File.Move(from, to, overwrite);
            }
            return 0;
        }, to);
        return Entry(Info(to));
    }

    public FileEntry Mkdir(string path, bool parents, UnixFileMode? mode)
    {
        if (File.Exists(path)) throw SandboxException.Conflict($"{path} exists and is a file");
        if (Directory.Exists(path))
        {
            if (!parents) throw SandboxException.Conflict($"{path} exists (parents=true accepts an existing directory)");
            return Entry(new DirectoryInfo(path));
        }
        var parent = Path.GetDirectoryName(path) ?? "/";
        if (!parents && !Directory.Exists(parent)) throw SandboxException.NotFound($"{parent}: no such directory (parents=true creates it)");
        Guard(() => Directory.CreateDirectory(path, mode ?? DirDefault), path);
        return Entry(new DirectoryInfo(path));
    }

    public void Delete(string path, bool recursive)
    {
        var info = Info(path);
        if (!info.Exists && info.LinkTarget is null) throw SandboxException.NotFound($"{path}: no such file or directory");
        if (path == "/" || path == HomePath.Home) throw SandboxException.BadField("path", $"refusing to delete {path}");
        Guard(() =>
        {
            if (info is DirectoryInfo && info.LinkTarget is null)
            {
                if (!recursive && Directory.EnumerateFileSystemEntries(path).Any())
                    throw SandboxException.Conflict($"{path} is a directory that is not empty (recursive=true deletes it)");
                Directory.Delete(path, recursive);
            }
            else File.Delete(path);
            return 0;
        }, path);
    }

    public static UnixFileMode ParseMode(string? text, string field)
    {
        if (text is null || text.Length is 0 or > 5
            || !int.TryParse(text.StartsWith("0o", StringComparison.Ordinal) ? text[2..] : text, NumberStyles.None, CultureInfo.InvariantCulture, out _)
            || text.Any(c => c is '8' or '9'))
            throw SandboxException.BadField(field, $"'{text}': expected octal permissions such as 0644");
        var value = Convert.ToInt32(text.StartsWith("0o", StringComparison.Ordinal) ? text[2..] : text, 8);
        if (value > 0xFFF) throw SandboxException.BadField(field, $"'{text}': at most 7777");
        return (UnixFileMode)value;
    }

    /// <summary>lstat: a symlink is a FileInfo whose LinkTarget is set, whatever it points to.</summary>
    private static FileSystemInfo Info(string path)
    {
        var file = new FileInfo(path);
        if (file.LinkTarget is not null) return file;
        return Directory.Exists(path) ? new DirectoryInfo(path) : file;
    }

    private static UnixFileMode SafeMode(string path)
    {
        try { return File.GetUnixFileMode(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return FileDefault; }
    }

    internal static FileEntry Entry(FileSystemInfo info)
    {
        var link = info.LinkTarget;
        var type = link is not null ? "symlink" : info is DirectoryInfo ? "directory" : IsRegular(info) ? "file" : "other";
        var (uid, gid) = Owner(info.FullName);
        return new FileEntry(
            info.Name,
            info.FullName,
            type,
            info is FileInfo f && link is null && info.Exists ? f.Length : 0,
            "0" + Convert.ToString((int)info.UnixFileMode & 0xFFF, 8),
            uid, gid, Users.Name(uid), Users.Group(gid),
            info.LastWriteTimeUtc.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture),
            link);
    }

    private static bool IsRegular(FileSystemInfo info) =>
        info is FileInfo && (info.Attributes & (FileAttributes.Device | FileAttributes.ReparsePoint)) == 0 && info.Exists;

    private static unsafe (int Uid, int Gid) Owner(string path)
    {
        var buf = stackalloc byte[LibcFiles.StatxSize];
        var bytes = Encoding.UTF8.GetBytes(path + "\0");
        fixed (byte* p = bytes)
        {
            if (Libc.statx(LibcFiles.AT_FDCWD, p, LibcFiles.AT_SYMLINK_NOFOLLOW, LibcFiles.STATX_BASIC_STATS, buf) != 0) return (-1, -1);
        }
        return (*(int*)(buf + LibcFiles.StatxUidOffset), *(int*)(buf + LibcFiles.StatxGidOffset));
    }

    internal static SandboxException Map(Exception e, string path) => e switch
    {
        SandboxException s => s,
        FileNotFoundException or DirectoryNotFoundException => SandboxException.NotFound($"{path}: no such file or directory"),
        UnauthorizedAccessException => SandboxException.Forbidden($"{path}: permission denied"),
        IOException io when IoErrors.IsDiskFull(io) => SandboxException.StorageFull($"{path}: no space left on the device", io),
        PathTooLongException => SandboxException.BadField("path", "the path is too long"),
        IOException io => SandboxException.Conflict($"{path}: {io.Message}"),
        _ => SandboxException.BadRequest($"{path}: {e.Message}"),
    };

    private static T Guard<T>(Func<T> action, string path)
    {
        try { return action(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw Map(e, path); }
    }

    private static async Task GuardAsync(Func<ValueTask> action, string path)
    {
        try { await action().ConfigureAwait(false); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw Map(e, path); }
    }

    /// <summary>User and group names from /etc/passwd and /etc/group, read once.</summary>
    private static class Users
    {
        private static readonly Lazy<Dictionary<int, string>> Passwd = new(() => Read("/etc/passwd"));
        private static readonly Lazy<Dictionary<int, string>> Groups = new(() => Read("/etc/group"));

        public static string? Name(int uid) => Passwd.Value.GetValueOrDefault(uid);
        public static string? Group(int gid) => Groups.Value.GetValueOrDefault(gid);

        private static Dictionary<int, string> Read(string file)
        {
            var map = new Dictionary<int, string>();
            try
            {
                foreach (var line in File.ReadLines(file))
                {
                    var parts = line.Split(':');
                    if (parts.Length > 2 && int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var id)) map.TryAdd(id, parts[0]);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
            return map;
        }
    }
}
