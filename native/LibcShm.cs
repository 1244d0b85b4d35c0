using System.Runtime.InteropServices;

namespace Sandbox.Native;

/// <summary>System V shared memory, for MIT-SHM segments.</summary>
internal static unsafe partial class Libc
{
    public const int IPC_PRIVATE = 0;
    public const int IPC_CREAT = 0x200;
    public const int IPC_RMID = 0;

    [LibraryImport(Libraries.Libc, SetLastError = true)]
    public static partial int shmget(int key, nuint size, int flags);

    [LibraryImport(Libraries.Libc, SetLastError = true)]
    public static partial void* shmat(int shmid, void* address, int flags);

    [LibraryImport(Libraries.Libc, SetLastError = true)]
    public static partial int shmdt(void* address);

    [LibraryImport(Libraries.Libc, SetLastError = true)]
    public static partial int shmctl(int shmid, int command, void* buffer);
}
