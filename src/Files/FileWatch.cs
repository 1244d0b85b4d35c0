using System.Runtime.InteropServices;
using System.Text;
using System.Threading.Channels;
using Sandbox.Common;
using Sandbox.Native;

namespace Sandbox.Files;

/// <summary>
/// An inotify watch on a directory (and, recursive, every directory below it, including ones created
/// later) or on one file (its directory, filtered to its name). A thread polls the inotify descriptor and
/// turns events into <see cref="WatchEvent"/>s: <c>created</c>, <c>modified</c> (a writer closed the file),
/// <c>deleted</c>, <c>moved_from</c>, <c>moved_to</c>, <c>overflow</c> (the kernel's queue overflowed: rescan).
/// </summary>
internal sealed unsafe class FileWatch : IDisposable
{
    private const uint Mask = LibcFiles.IN_CREATE | LibcFiles.IN_CLOSE_WRITE | LibcFiles.IN_DELETE | LibcFiles.IN_MOVED_FROM
        | LibcFiles.IN_MOVED_TO | LibcFiles.IN_DELETE_SELF | LibcFiles.IN_MOVE_SELF;

    private readonly int _fd;
    private readonly bool _recursive;
    private readonly string? _onlyName;
    private readonly Dictionary<int, string> _dirs = [];
    private readonly Channel<WatchEvent> _events = Channel.CreateBounded<WatchEvent>(new BoundedChannelOptions(10_000) { FullMode = BoundedChannelFullMode.DropOldest });
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _thread;
    private long _seq;

    public FileWatch(string path, bool recursive)
    {
        string dir;
        if (Directory.Exists(path)) dir = path;
        else if (File.Exists(path) || Directory.Exists(Path.GetDirectoryName(path)))
        {
            // A file (or one expected to appear): watch its directory for that name.
            dir = Path.GetDirectoryName(path) ?? "/";
            _onlyName = Path.GetFileName(path);
            recursive = false;
        }
        else throw SandboxException.NotFound($"{path}: no such file or directory");
        _recursive = recursive;
        _fd = Libc.inotify_init1(LibcFiles.IN_NONBLOCK | LibcFiles.IN_CLOEXEC);
        if (_fd < 0) throw SandboxException.Busy($"inotify_init1 failed (errno {Marshal.GetLastPInvokeError()}): too many watches");
        try { Add(dir, announce: false); }
        catch { Libc.close(_fd); throw; }
        _thread = new Thread(Run) { IsBackground = true, Name = "inotify " + dir };
        _thread.Start();
    }

    public ChannelReader<WatchEvent> Events => _events.Reader;

    /// <summary>Watches <paramref name="dir"/> and, recursive, the directories below it. With <paramref name="announce"/>
    /// (a directory that appeared while watching), what it already holds is reported as created, each
    /// subdirectory after its own watch is in place, so nothing created from then on is missed.</summary>
    private void Add(string dir, bool announce)
    {
        var bytes = Encoding.UTF8.GetBytes(dir + "\0");
        int wd;
        fixed (byte* p = bytes) wd = Libc.inotify_add_watch(_fd, p, Mask | LibcFiles.IN_ONLYDIR);
        if (wd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (_dirs.Count == 0)
                throw errno == 28 ? SandboxException.Busy("the inotify watch limit is reached (fs.inotify.max_user_watches)")
                    : SandboxException.NotFound($"{dir}: cannot watch (errno {errno})");
            return;
        }
        _dirs[wd] = dir;
        if (!_recursive) return;
        List<string> subdirs;
        try { subdirs = Directory.EnumerateDirectories(dir).ToList(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return; }
        foreach (var sub in subdirs)
        {
            if (new DirectoryInfo(sub).LinkTarget is not null) continue;
            Add(sub, announce);
            if (announce) Emit("created", sub, true);
        }
        if (announce)
            try { foreach (var f in Directory.EnumerateFiles(dir)) Emit("created", f, false); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    private void Emit(string type, string path, bool isDir) =>
        _events.Writer.TryWrite(new WatchEvent(type, path, isDir, Interlocked.Increment(ref _seq)));

    private void Run()
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var pfd = new PollFd { Fd = _fd, Events = Libc.POLLIN };
                var ready = Libc.poll(&pfd, 1, 250);
                if (ready <= 0) continue;
                nint n;
                fixed (byte* p = buffer) n = Libc.read(_fd, p, (nuint)buffer.Length);
                if (n <= 0) continue;
                Parse(buffer.AsSpan(0, (int)n));
                if (_dirs.Count == 0) { Emit("deleted", "", true); return; }
            }
        }
        finally
        {
            _events.Writer.TryComplete();
        }
    }

    private void Parse(ReadOnlySpan<byte> data)
    {
        while (data.Length >= 16)
        {
            var wd = MemoryMarshal.Read<int>(data);
            var mask = MemoryMarshal.Read<uint>(data[4..]);
            var len = (int)MemoryMarshal.Read<uint>(data[12..]);
            var nameBytes = data.Slice(16, len);
            var end = nameBytes.IndexOf((byte)0);
            var name = Encoding.UTF8.GetString(end < 0 ? nameBytes : nameBytes[..end]);
            data = data[(16 + len)..];

            if ((mask & LibcFiles.IN_Q_OVERFLOW) != 0) { Emit("overflow", "", false); continue; }
            if (!_dirs.TryGetValue(wd, out var dir)) continue;
            if ((mask & LibcFiles.IN_IGNORED) != 0) { _dirs.Remove(wd); continue; }
            var isDir = (mask & LibcFiles.IN_ISDIR) != 0;
            if ((mask & (LibcFiles.IN_DELETE_SELF | LibcFiles.IN_MOVE_SELF)) != 0)
            {
                if (_onlyName is null && _dirs.Count == 1) Emit((mask & LibcFiles.IN_DELETE_SELF) != 0 ? "deleted" : "moved_from", dir, true);
                continue;
            }
            if (_onlyName is not null && name != _onlyName) continue;
            var path = Path.Combine(dir, name);
            if ((mask & LibcFiles.IN_CREATE) != 0)
            {
                // The new directory's watch first: a client that sees "created" and writes into it is seen.
                if (isDir && _recursive) Add(path, announce: true);
                Emit("created", path, isDir);
            }
            if ((mask & LibcFiles.IN_CLOSE_WRITE) != 0) Emit("modified", path, isDir);
            if ((mask & LibcFiles.IN_DELETE) != 0) Emit("deleted", path, isDir);
            if ((mask & LibcFiles.IN_MOVED_FROM) != 0) Emit("moved_from", path, isDir);
            if ((mask & LibcFiles.IN_MOVED_TO) != 0)
            {
                if (isDir && _recursive) Add(path, announce: true);
                Emit("moved_to", path, isDir);
            }
        }
    }

    public void Dispose()
    {
        if (_stop.IsCancellationRequested) return;
        _stop.Cancel();
        _thread.Join();
        Libc.close(_fd);
    }
}
