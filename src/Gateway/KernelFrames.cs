using System.Runtime.InteropServices;
using NetMQ;

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
    /// NetMQ's buffer pool for the gateway: exact-size arrays, uninitialized (the decoder overwrites them
    /// whole), and nothing is recycled, which is what lets <see cref="Take"/> keep a frame's array.
    /// </summary>
    private sealed class OwnedFrames : IBufferPool
    {
        public byte[] Take(int size) => size == 0 ? [] : GC.AllocateUninitializedArray<byte>(size);

        public void Return(byte[] buffer) { }

        public void Dispose() { }
    }
}
