using System.Runtime.InteropServices;
using NetMQ;
using Sandbox.Native;

namespace Sandbox.Gateway;

/// <summary>
/// Receives one multipart kernel message as one exact byte array per frame, without copying any frame.
/// <para>
/// NetMQ's decoder reads each incoming frame into an array of its own, taken from <see cref="BufferPool"/>;
/// <c>TryReceiveMultipartBytes</c> then copies every frame into a second array. ipykernel sends a tight
/// print loop as one message of its whole size, so a cell printing 100 MB cost two 100 MB arrays. Here
/// the pool (<see cref="OwnedFrames"/>) hands out arrays of exactly the frame's size and never reuses a
/// returned one, so the decoder's own array becomes the frame: one array per frame, the copy is gone.
/// </para>
/// <para>
/// Nothing else allocates enough to make the GC collect such an array soon after, so a dropped 100 MB
/// message would stay resident until some later collection. <see cref="Discard"/> gives the pages of a
/// message that nothing references any more (one the rate limiter dropped) back to the system at once,
/// without a collection; the emptied array is then collected whenever the GC next runs.
/// </para>
/// </summary>
internal static class KernelFrames
{
    static KernelFrames() => BufferPool.SetCustomBufferPool(new OwnedFrames());

    /// <summary>
    /// Makes sure NetMQ allocates frames from <see cref="OwnedFrames"/> before the first socket is opened
    /// (the decoder takes arrays on NetMQ's I/O thread, before anything is received here).
    /// </summary>
    public static void EnsureInstalled() { }

    /// <summary>Appends the frames of the next message to <paramref name="frames"/>; false when none is waiting.</summary>
    public static bool TryReceive(NetMQSocket socket, List<byte[]> frames)
    {
        var msg = new Msg();
        msg.InitEmpty();
        try
        {
            if (!socket.TryReceive(ref msg, TimeSpan.Zero)) return false;
            while (true)
            {
                frames.Add(Take(ref msg));
                if (!msg.HasMore) return true;
                // The rest of a multipart message is already queued: ZMQ delivers messages whole.
                socket.Receive(ref msg);
            }
        }
        finally
        {
            msg.Close();
        }
    }

    /// <summary>Frames from this size up are worth returning to the system when dropped.</summary>
    public const int LargeFrameBytes = 1 << 20;

    /// <summary>
    /// Gives the memory of <paramref name="message"/>'s large content and buffer frames back to the system.
    /// Only for a message nothing will read again: afterwards those frames read as zeros. (Header, parent
    /// and metadata are left alone: a rate-limit notice reuses the dropped message's parent header.)
    /// </summary>
    public static void Discard(WireMessage message)
    {
        Release(message.Content);
        foreach (var buffer in message.Buffers) Release(buffer);
    }

    private static unsafe void Release(byte[] frame)
    {
        if (frame.Length < LargeFrameBytes) return;
        var page = (nuint)Environment.SystemPageSize;
        fixed (byte* p = frame)
        {
            // Whole pages inside the array's data only: the array's header and its neighbours stay untouched.
            var start = ((nuint)p + page - 1) & ~(page - 1);
            var end = ((nuint)p + (nuint)frame.Length) & ~(page - 1);
            if (end > start) Libc.madvise((void*)start, end - start, Libc.MADV_DONTNEED);
        }
    }

    /// <summary>The frame's bytes: the decoder's array itself when it is exactly the frame, else a copy.</summary>
    private static byte[] Take(ref Msg msg)
    {
        if (msg.Size == 0) return [];
        if (msg.MsgType == MsgType.Pool && MemoryMarshal.TryGetArray<byte>(msg.SliceAsMemory(), out var frame)
            && frame.Offset == 0 && frame.Array is { } data && data.Length == frame.Count)
            return data;   // ours from now on: OwnedFrames.Return never hands it out again
        return msg.ToArray();
    }

    /// <summary>
    /// NetMQ's buffer pool for the gateway: exact-size zeroed arrays, as NetMQ's own GC pool gives, and
    /// nothing is recycled, which is what lets <see cref="Take"/> keep a frame's array.
    /// </summary>
    private sealed class OwnedFrames : IBufferPool
    {
        public byte[] Take(int size) => size == 0 ? [] : new byte[size];

        public void Return(byte[] buffer) { }

        public void Dispose() { }
    }
}
