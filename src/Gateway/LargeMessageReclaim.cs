using System.Runtime;

namespace Sandbox.Gateway;

/// <summary>
/// Gives the memory of very large kernel messages back to the system once they are handled.
/// <para>
/// ipykernel coalesces a cell's output between flushes, so a tight print loop arrives as one message of
/// its whole size (a cell printing 100 MB sends one 100 MB message). Receiving it takes two arrays of that
/// size on the large object heap, garbage as soon as the rate limiter drops it or the clients have it; but
/// nothing else allocates enough to trigger a full collection, so without help the process would keep
/// that memory (measured: +200 MB of RSS per 100 MB cell, never returned). After a message of at least
/// <see cref="Threshold"/> bytes, one aggressive full collection runs shortly after (at most one per
/// second, and one more if another arrives meanwhile), which compacts the large object heap and decommits the freed memory.
/// </para>
/// </summary>
internal static class LargeMessageReclaim
{
    public const long Threshold = 8 * 1024 * 1024;
    private static readonly TimeSpan Delay = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan MinInterval = TimeSpan.FromSeconds(1);
    private static int s_requested, s_running;

    /// <summary>Notes a message of <paramref name="bytes"/> received; schedules a collection when large.</summary>
    public static void Handled(long bytes)
    {
        if (bytes < Threshold) return;
        Volatile.Write(ref s_requested, 1);
        if (Interlocked.Exchange(ref s_running, 1) == 0) _ = Task.Run(RunAsync);
    }

    private static async Task RunAsync()
    {
        try
        {
            // A large message arriving while a collection is pending or just done asks for one more.
            while (Interlocked.Exchange(ref s_requested, 0) == 1)
            {
                // Let the message's last users (rate limiter, encoder, WebSocket send) finish with it first.
                await Task.Delay(Delay).ConfigureAwait(false);
                GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
                GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
                await Task.Delay(MinInterval).ConfigureAwait(false);
            }
        }
        finally
        {
            Volatile.Write(ref s_running, 0);
            // A request between the last check and the reset above starts the next run.
            if (Volatile.Read(ref s_requested) == 1 && Interlocked.Exchange(ref s_running, 1) == 0) _ = Task.Run(RunAsync);
        }
    }
}
