using System.Runtime.InteropServices;
using System.Text;
using Sandbox.Native;

namespace Sandbox.Common;

/// <summary>Who may read what the appliance writes under SHARED_DIR (<c>SANDBOX_SHARED_MODE</c>).</summary>
internal enum ShareMode
{
    /// <summary>0700 directories, 0600 files: the default.</summary>
    Private,
    /// <summary>0750 / 0640: a group the service user shares (e.g. a host reading a virtiofs share).</summary>
    Group,
    /// <summary>0755 / 0644: a share read by another uid, as the old suite wrote it.</summary>
    World,
}

/// <summary>
/// Every file and directory the appliance writes goes through here, so none is more readable than the
/// configured <see cref="ShareMode"/>. New files are created with their final mode (never chmod after the
/// fact), and <see cref="PrepareSharedDirectory"/> refuses a SHARED_DIR that is a symlink or belongs to
/// another user (anyone could otherwise pre-create /tmp/sandbox-server and read or replace our files).
/// The mode is process-wide policy, set once at start before any area writes.
/// </summary>
internal static class PrivateFiles
{
    public static ShareMode Mode { get; private set; } = ShareMode.Private;

    public static void Configure(ShareMode mode) => Mode = mode;

    public static UnixFileMode FileMode => Mode switch
    {
        ShareMode.Group => UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead,
        ShareMode.World => UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
        _ => UnixFileMode.UserRead | UnixFileMode.UserWrite,
    };

    public static UnixFileMode DirectoryMode => Mode switch
    {
        ShareMode.Group => UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute,
        ShareMode.World => UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute
                           | UnixFileMode.OtherRead | UnixFileMode.OtherExecute,
        _ => UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute,
    };

    public static DirectoryInfo CreateDirectory(string path)
    {
        if (!OperatingSystem.IsLinux()) throw new PlatformNotSupportedException();
        return Directory.CreateDirectory(path, DirectoryMode);
    }

    /// <summary>Opens a new file for writing with the private mode. <c>CreateNew</c> (the default) fails on
    /// any existing name, a planted symlink included (O_CREAT|O_EXCL does not follow links).</summary>
    public static FileStream Create(string path, FileMode mode = System.IO.FileMode.CreateNew, int bufferSize = 4096, FileShare share = FileShare.None)
    {
        if (!OperatingSystem.IsLinux()) throw new PlatformNotSupportedException();
        return new(path, new FileStreamOptions
        {
            Mode = mode,
            Access = FileAccess.Write,
            Share = share,
            BufferSize = bufferSize,
            UnixCreateMode = FileMode,
        });
    }

    /// <summary>Creates an empty file with the private mode for another program (ffmpeg) to write into.</summary>
    public static void Touch(string path)
    {
        using var _ = Create(path, System.IO.FileMode.Create);
    }

    /// <summary>
    /// Creates SHARED_DIR (mode by policy) or checks the existing one: it must be a real directory owned by
    /// our effective uid; group/other bits beyond the policy are removed. Throws with the reason otherwise.
    /// </summary>
    public static unsafe void PrepareSharedDirectory(string path)
    {
        if (!OperatingSystem.IsLinux()) throw new PlatformNotSupportedException();
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full) ?? "/");
        try { Directory.CreateDirectory(full, DirectoryMode); }
        catch (IOException) { /* a file or dangling link of that name: reported below */ }
        var st = stackalloc byte[LibcFiles.StatxSize];
        var name = Encoding.UTF8.GetBytes(full + "\0");
        fixed (byte* p = name)
        {
            if (Libc.statx(LibcFiles.AT_FDCWD, p, LibcFiles.AT_SYMLINK_NOFOLLOW, LibcFiles.STATX_TYPE | LibcFiles.STATX_MODE | LibcFiles.STATX_UID, st) != 0)
                throw new IOException($"SHARED_DIR {full}: cannot stat it (errno {Marshal.GetLastPInvokeError()})");
        }
        var uid = *(uint*)(st + LibcFiles.StatxUidOffset);
        var rawMode = *(ushort*)(st + LibcFiles.StatxModeOffset);
        var type = rawMode & LibcFiles.S_IFMT;
        if (type == LibcFiles.S_IFLNK) throw new IOException($"SHARED_DIR {full} is a symbolic link; refusing to write through it");
        if (type != LibcFiles.S_IFDIR) throw new IOException($"SHARED_DIR {full} exists and is not a directory");
        var euid = Libc.geteuid();
        if (uid != euid)
            throw new IOException($"SHARED_DIR {full} belongs to uid {uid}, not to this user (uid {euid}); remove it or choose another SHARED_DIR");
        var mode = (UnixFileMode)(rawMode & 0x1FF);
        if ((mode & ~DirectoryMode) != 0) File.SetUnixFileMode(full, DirectoryMode);
    }
}
