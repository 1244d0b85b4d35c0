using System.Runtime.InteropServices;

namespace Sandbox.Native;

/// <summary>
/// libc process control for kernel processes: posix_spawn with its own process group, signals to a
/// group, and waitpid. Blittable signatures only; strings travel as NUL-terminated UTF-8 the caller owns.
/// </summary>
internal static unsafe partial class Libc
{
    [LibraryImport(Libraries.Libc)] public static partial int posix_spawnattr_init(void* attr);
    [LibraryImport(Libraries.Libc)] public static partial int posix_spawnattr_destroy(void* attr);
    [LibraryImport(Libraries.Libc)] public static partial int posix_spawnattr_setflags(void* attr, short flags);
    [LibraryImport(Libraries.Libc)] public static partial int posix_spawnattr_setpgroup(void* attr, int pgroup);
    [LibraryImport(Libraries.Libc)] public static partial int posix_spawnattr_setsigdefault(void* attr, void* sigset);
    [LibraryImport(Libraries.Libc)] public static partial int posix_spawnattr_setsigmask(void* attr, void* sigset);
    [LibraryImport(Libraries.Libc)] public static partial int sigemptyset(void* set);
    [LibraryImport(Libraries.Libc)] public static partial int sigaddset(void* set, int signum);

    [LibraryImport(Libraries.Libc)] public static partial int posix_spawn_file_actions_init(void* actions);
    [LibraryImport(Libraries.Libc)] public static partial int posix_spawn_file_actions_destroy(void* actions);
    [LibraryImport(Libraries.Libc)] public static partial int posix_spawn_file_actions_addopen(void* actions, int fd, byte* path, int oflag, uint mode);
    [LibraryImport(Libraries.Libc)] public static partial int posix_spawn_file_actions_adddup2(void* actions, int fd, int newfd);
    [LibraryImport(Libraries.Libc)] public static partial int posix_spawn_file_actions_addchdir_np(void* actions, byte* path);

    /// <summary>Returns 0 or an error number (posix_spawn does not use errno).</summary>
    [LibraryImport(Libraries.Libc)] public static partial int posix_spawn(int* pid, byte* path, void* fileActions, void* attr, byte** argv, byte** envp);

    [LibraryImport(Libraries.Libc, SetLastError = true)] public static partial int kill(int pid, int sig);
    [LibraryImport(Libraries.Libc, SetLastError = true)] public static partial int waitpid(int pid, int* status, int options);
    [LibraryImport(Libraries.Libc)] public static partial int getpid();
}

/// <summary>Constants and wait-status helpers for <see cref="Libc"/>'s process functions (glibc, Linux).</summary>
internal static class LibcProc
{
    public const int SIGHUP = 1, SIGINT = 2, SIGQUIT = 3, SIGKILL = 9, SIGPIPE = 13, SIGTERM = 15, SIGCHLD = 17;
    public const int WNOHANG = 1;

    // glibc flag values (spawn.h).
    public const short POSIX_SPAWN_SETPGROUP = 0x02, POSIX_SPAWN_SETSIGDEF = 0x04, POSIX_SPAWN_SETSIGMASK = 0x08;

    // glibc on x86-64/arm64: posix_spawnattr_t is 336 bytes, posix_spawn_file_actions_t 80, sigset_t 128.
    // The buffers we hand out are larger so a libc with bigger structs cannot overrun them.
    public const int SpawnAttrSize = 1024, FileActionsSize = 512, SigSetSize = 256;

    public static bool WIfExited(int status) => (status & 0x7f) == 0;
    public static int WExitStatus(int status) => (status >> 8) & 0xff;
    public static int WTermSig(int status) => status & 0x7f;
}
