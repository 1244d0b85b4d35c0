using System.Net.Sockets;
using Tmds.DBus.Protocol;

namespace Sandbox.Accessibility;

/// <summary>
/// The byte stream under a direct (peer-to-peer) D-Bus connection to an application, given to
/// Tmds.DBus.Protocol through <see cref="Options"/>. Two things make a walk's thousands of calls cheaper
/// than over a plain socket, where every message is one write and every reply hops from the socket
/// engine's thread to a thread-pool thread:
/// <list type="bullet">
/// <item>Reads run on a thread of the connection's own, so the library's receive loop, and the reply
/// continuations it completes inline (the walker's code), run there: no thread hop per reply, and up to
/// 64 KiB of replies per read.</item>
/// <item>Writes are coalesced: while a caller holds a <see cref="Cork"/> (a wave of calls being issued),
/// and while the reader thread runs continuations, messages collect in one buffer that is sent in one
/// write when the wave is out (or every <see cref="FlushThreshold"/> bytes). The application then reads
/// many requests per wake-up instead of waking once per message.</item>
/// </list>
/// The socket is non-blocking: no caller ever waits on a write. What the application does not take
/// (its socket buffer is full: it is busy, or stopped) is sent by a writer thread when it can.
/// Disposing shuts the socket down, which ends both threads and fails the connection's pending calls.
/// </summary>
internal sealed class PeerStream : Stream
{
    /// <summary>
    /// Buffered writes go out once this many bytes wait, even under a cork: the application starts on the first
    /// few dozen calls of a wave while the rest are being written (a whole wave at once would leave it idle meanwhile).
    /// </summary>
    public const int FlushThreshold = 4096;

    private const int ReceiveSize = 64 * 1024;

    private readonly Socket _socket;
    private readonly Thread _reader;
    private readonly object _gate = new();
    private readonly ManualResetEventSlim _readWanted = new(false);
    private readonly ManualResetEventSlim _writeWanted = new(false);
    private Thread? _writer;
    private volatile bool _disposed;

    // Bytes received and not yet handed to the library.
    private readonly byte[] _in = new byte[ReceiveSize];
    private int _inStart, _inEnd;

    // A read the library is waiting for (under _gate).
    private Memory<byte> _readInto;
    private TaskCompletionSource<int>? _readDone;

    // Bytes written and not yet sent (under _gate).
    private byte[] _out = new byte[4096];
    private int _outLength;
    private int _corks;
    private bool _writerDraining;

    private PeerStream(Socket socket, string name)
    {
        _socket = socket;
        _reader = new Thread(ReadLoop, 256 * 1024) { IsBackground = true, Name = "a11y peer " + name };
        _reader.Start();
    }

    /// <summary>Connects to a unix socket address (<c>unix:path=</c> or <c>unix:abstract=</c>) and returns the stream.</summary>
    public static async Task<PeerStream> ConnectAsync(string address, CancellationToken ct)
    {
        var endpoint = UnixEndpoint(address) ?? throw new NotSupportedException("not a unix socket address: " + address);
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(endpoint, ct).ConfigureAwait(false);
            socket.Blocking = false;
            return new PeerStream(socket, address);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>The endpoint of the first unix entry of a D-Bus address; null when it has none.</summary>
    internal static UnixDomainSocketEndPoint? UnixEndpoint(string address)
    {
        foreach (var entry in address.Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            if (!entry.StartsWith("unix:", StringComparison.Ordinal)) continue;
            foreach (var kv in entry[5..].Split(','))
            {
                var eq = kv.IndexOf('=');
                if (eq < 0) continue;
                var value = Unescape(kv[(eq + 1)..]);
                switch (kv[..eq])
                {
                    case "path": return new UnixDomainSocketEndPoint(value);
                    case "abstract": return new UnixDomainSocketEndPoint("\0" + value);
                }
            }
        }
        return null;
    }

    private static string Unescape(string s)
    {
        if (!s.Contains('%')) return s;
        var bytes = new List<byte>(s.Length);
        for (var i = 0; i < s.Length; i++)
        {
            if (s[i] == '%' && i + 2 < s.Length && byte.TryParse(s.AsSpan(i + 1, 2), System.Globalization.NumberStyles.HexNumber, null, out var b))
            {
                bytes.Add(b);
                i += 2;
            }
            else bytes.Add((byte)s[i]);
        }
        return System.Text.Encoding.UTF8.GetString(bytes.ToArray());
    }

    /// <summary>Connection options that make Tmds.DBus.Protocol run over this stream.</summary>
    public sealed class Options(PeerStream stream) : DBusConnectionOptions
    {
        protected override ValueTask<SetupResult> SetupAsync(CancellationToken cancellationToken) =>
            new(new SetupResult { ConnectionStream = stream, UserId = Sandbox.Native.Libc.geteuid().ToString(System.Globalization.CultureInfo.InvariantCulture) });
    }

    /// <summary>Holds writes back until disposed (or until <see cref="FlushThreshold"/> bytes wait): one write for a wave of calls.</summary>
    public CorkScope Cork()
    {
        lock (_gate) _corks++;
        return new CorkScope(this);
    }

    public readonly struct CorkScope(PeerStream? stream) : IDisposable
    {
        public void Dispose()
        {
            if (stream is null) return;
            lock (stream._gate)
            {
                stream._corks--;
                // On the reader thread, what was written goes out when it goes back to reading.
                if (stream._corks == 0 && !stream.OnReaderThread) stream.FlushLocked();
            }
        }
    }

    private bool OnReaderThread => Thread.CurrentThread == _reader;

    [ThreadStatic] private static bool t_reader;

    /// <summary>
    /// True on the reader thread of any peer stream: code that continues there after awaiting calls and then
    /// does long work of its own (building an answer) should move to the thread pool first (Task.Yield), so
    /// that the connection's replies keep being read.
    /// </summary>
    public static bool IsReaderThread => t_reader;

    /// <summary>True once the stream ended (the application closed its end, or the socket failed) or was disposed.</summary>
    public bool IsClosed => _disposed;

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Write(buffer.Span);
        return default;
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_outLength + buffer.Length > _out.Length)
            {
                var bigger = new byte[Math.Max(_out.Length * 2, _outLength + buffer.Length)];
                _out.AsSpan(0, _outLength).CopyTo(bigger);
                _out = bigger;
            }
            buffer.CopyTo(_out.AsSpan(_outLength));
            _outLength += buffer.Length;
            // Written from the reader thread (a continuation of a reply): sent when it goes back to reading.
            if (_outLength >= FlushThreshold || (_corks == 0 && !OnReaderThread)) FlushLocked();
        }
    }

    /// <summary>Sends what waits, without blocking; what the socket does not take is left to the writer thread.</summary>
    private void FlushLocked()
    {
        if (_writerDraining || _outLength == 0 || _disposed) return;
        var sent = 0;
        while (sent < _outLength)
        {
            var n = _socket.Send(_out.AsSpan(sent, _outLength - sent), SocketFlags.None, out var error);
            if (error == SocketError.Success) { sent += n; continue; }
            if (error is SocketError.WouldBlock or SocketError.Interrupted) break;
            Shutdown();
            return;
        }
        if (sent > 0)
        {
            _out.AsSpan(sent, _outLength - sent).CopyTo(_out);
            _outLength -= sent;
        }
        if (_outLength > 0)
        {
            _writerDraining = true;
            if (_writer is null)
            {
                _writer = new Thread(WriteLoop, 128 * 1024) { IsBackground = true, Name = _reader.Name + " writer" };
                _writer.Start();
            }
            _writeWanted.Set();
        }
        else if (_out.Length > 64 * 1024) _out = new byte[4096]; // a burst's buffer is not kept
    }

    private void WriteLoop()
    {
        while (!_disposed)
        {
            _writeWanted.Wait();
            _writeWanted.Reset();
            while (!_disposed)
            {
                try { _socket.Poll(500_000, SelectMode.SelectWrite); }
                catch (Exception) when (_disposed) { return; }
                catch (Exception) { Shutdown(); return; }
                lock (_gate)
                {
                    _writerDraining = false;
                    FlushLocked();
                    if (!_writerDraining) break;
                }
            }
        }
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.Length == 0) return new(0);
        if (OnReaderThread)
        {
            // The library's receive loop, running here: answer from what was received, else one non-blocking read.
            if (_inStart == _inEnd && !_disposed) Receive();
            if (_inStart < _inEnd) return new(Take(buffer.Span));
            if (_disposed) return new(0);
        }
        var done = new TaskCompletionSource<int>();
        lock (_gate)
        {
            if (_disposed) return new(0);
            if (_readDone is not null) throw new InvalidOperationException("one read at a time");
            _readInto = buffer;
            _readDone = done;
        }
        _readWanted.Set();
        return new(done.Task);
    }

    public override int Read(Span<byte> buffer) => throw new NotSupportedException();

    private int Take(Span<byte> into)
    {
        var n = Math.Min(into.Length, _inEnd - _inStart);
        _in.AsSpan(_inStart, n).CopyTo(into);
        _inStart += n;
        return n;
    }

    /// <summary>One non-blocking read into the receive buffer (reader thread only). False at end of stream or on error.</summary>
    private bool Receive()
    {
        _inStart = _inEnd = 0;
        var n = _socket.Receive(_in, 0, _in.Length, SocketFlags.None, out var error);
        if (error == SocketError.Success)
        {
            if (n == 0) { Shutdown(); return false; }
            _inEnd = n;
            return true;
        }
        if (error is SocketError.WouldBlock or SocketError.Interrupted) return true;
        Shutdown();
        return false;
    }

    private void ReadLoop()
    {
        t_reader = true;
        while (true)
        {
            // Replies' continuations ran on this thread and may have written the next calls: send them now.
            lock (_gate)
                if (_corks == 0) FlushLocked();
            TaskCompletionSource<int>? done;
            Memory<byte> into;
            lock (_gate)
            {
                done = _readDone;
                into = _readInto;
            }
            if (done is null)
            {
                if (_disposed) return;
                _readWanted.Wait();
                _readWanted.Reset();
                continue;
            }
            var result = 0;
            Exception? failure = null;
            if (!_disposed)
            {
                if (_inStart == _inEnd)
                {
                    try
                    {
                        if (!_socket.Poll(500_000, SelectMode.SelectRead)) continue;
                        Receive();
                    }
                    catch (Exception e) when (!_disposed) { failure = e; }
                    catch (Exception) { }
                    if (_inStart == _inEnd && !_disposed && failure is null) continue; // woken without data
                }
                if (_inStart < _inEnd) result = Take(into.Span);
            }
            lock (_gate)
            {
                _readDone = null;
                _readInto = default;
            }
            // Runs the library's receive loop (and the continuations of the replies it reads) on this thread
            // until it needs bytes that have not arrived.
            if (failure is not null) done.TrySetException(new IOException("the application's connection failed", failure));
            else done.TrySetResult(result);
            if (_disposed && result == 0) return;
        }
    }

    private void Shutdown()
    {
        if (_disposed) return;
        _disposed = true;
        try { _socket.Shutdown(SocketShutdown.Both); } catch (Exception) { }
        _readWanted.Set();
        _writeWanted.Set();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            TaskCompletionSource<int>? pending;
            lock (_gate)
            {
                Shutdown();
                pending = _readDone;
            }
            // The reader thread completes a pending read with end of stream; the socket is closed once it has.
            if (pending is null || !_reader.IsAlive) _socket.Dispose();
            else _ = pending.Task.ContinueWith(_ => _socket.Dispose(), TaskScheduler.Default);
        }
        base.Dispose(disposing);
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { lock (_gate) FlushLocked(); }
    public override Task FlushAsync(CancellationToken cancellationToken) { Flush(); return Task.CompletedTask; }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));
    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        Write(buffer.AsSpan(offset, count));
        return Task.CompletedTask;
    }
}
