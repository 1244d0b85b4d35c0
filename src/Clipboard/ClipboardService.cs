using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Logging;
using Sandbox.Common;
using Sandbox.Display;
using Sandbox.Native;

namespace Sandbox.Clipboard;

/// <summary>
/// The X clipboard, natively: <see cref="SetAsync"/> makes the appliance the owner of a selection (a
/// hidden window of ours answers every <c>SelectionRequest</c> until another client takes ownership),
/// <see cref="GetAsync"/> converts the selection from whoever owns it (INCR included).
/// <para>
/// One dedicated thread does all X work on the clipboard's own connection: it must answer requests at
/// any time, also while no HTTP request is running. Callers post operations to it and await them; it
/// sleeps in poll(2) on the X socket and a doorbell. The thread starts on first use.
/// </para>
/// </summary>
internal sealed class ClipboardService : IDisposable
{
    private readonly XDisplayConnection _x;
    private readonly ClipboardOptions _o;
    private readonly ILogger _log;
    private readonly ConcurrentQueue<Op> _ops = new();
    private readonly EventFd _bell = new();
    private readonly object _startLock = new();
    private Thread? _thread;
    private volatile bool _stopping;

    // Owned by the clipboard thread.
    private long _generation = -1;
    private readonly Dictionary<nuint, ClipboardContent> _owned = [];
    private readonly List<Transfer> _transfers = [];
    private readonly Queue<GetOp> _waitingReads = new();
    private Read? _read;

    public ClipboardService(XDisplayConnection connection, ClipboardOptions options, ILogger log)
    {
        _x = connection;
        _o = options;
        _log = log;
    }

    public ClipboardOptions Options => _o;

    private long _served;

    /// <summary>
    /// How many requests for content we own (not the TARGETS list) have been answered with data so far: a
    /// paste compares it before and after ctrl+v to know the application has fetched the text.
    /// </summary>
    public long Served => Interlocked.Read(ref _served);

    /// <summary>Makes the appliance the owner of <paramref name="selection"/> with this content.</summary>
    public Task SetAsync(ClipboardSelection selection, ClipboardContent content)
    {
        if (content.Data.Length > _o.MaxBytes)
            throw SandboxException.TooLarge($"the content is {content.Data.Length} bytes; the limit is {_o.MaxBytes} (SANDBOX_CLIPBOARD_MAX_BYTES)");
        var op = new SetOp(selection, content);
        Post(op);
        return op.Done.Task;
    }

    public Task SetTextAsync(string text, ClipboardSelection selection = ClipboardSelection.Clipboard) =>
        SetAsync(selection, ClipboardContent.FromText(text));

    /// <summary>
    /// What <paramref name="selection"/> holds, as text (UTF-8) or a PNG image; <see cref="ClipboardContent.Empty"/>
    /// when nobody owns it; NotFound when the owner offers no such type; Timeout when the owner does not answer in time.
    /// </summary>
    public Task<ClipboardContent> GetAsync(ClipboardSelection selection, ClipboardKind kind)
    {
        var op = new GetOp(selection, kind);
        Post(op);
        return op.Done.Task;
    }

    public async Task<string> GetTextAsync(ClipboardSelection selection = ClipboardSelection.Clipboard) =>
        (await GetAsync(selection, ClipboardKind.Text)).Text;

    /// <summary>The current content, or null when the selection is empty or holds neither text nor PNG (for save and restore).</summary>
    public async Task<ClipboardContent?> TryGetAnyAsync(ClipboardSelection selection = ClipboardSelection.Clipboard)
    {
        try
        {
            var text = await GetAsync(selection, ClipboardKind.Text);
            return text.IsEmpty ? null : text;
        }
        catch (SandboxException e) when (e.Kind == ErrorKind.NotFound) { }
        try { return await GetAsync(selection, ClipboardKind.Image); }
        catch (SandboxException e) when (e.Kind == ErrorKind.NotFound) { return null; }
    }

    private void Post(Op op)
    {
        lock (_startLock)
        {
            ObjectDisposedException.ThrowIf(_stopping, this);
            if (_thread is null)
            {
                _thread = new Thread(Loop) { IsBackground = true, Name = "clipboard" };
                _thread.Start();
            }
        }
        _ops.Enqueue(op);
        _bell.Ring();
    }

    // ---- the clipboard thread ----

    private void Loop()
    {
        while (!_stopping)
        {
            var fd = -1;
            if (_generation >= 0 || !_ops.IsEmpty)
            {
                try
                {
                    fd = _x.Run(Step, _o.DisplayTimeoutMs, retryOnDeadConnection: false);
                }
                catch (Exception e)
                {
                    var failure = e as SandboxException ?? SandboxException.Unavailable("clipboard: " + e.Message, e);
                    if (e is not SandboxException) _log.LogError(e, "clipboard: unexpected failure");
                    ForgetSession(failure);
                    // Operations posted while the display is down fail now rather than wait.
                    while (_ops.TryDequeue(out var op)) op.Fail(failure);
                    _generation = -1;
                    fd = -1;
                }
            }
            WaitForWork(fd, NextWakeMs());
        }
    }

    private unsafe void WaitForWork(int xfd, int timeoutMs)
    {
        var fds = stackalloc PollFd[2];
        fds[0] = new PollFd { Fd = _bell.Fd, Events = Libc.POLLIN };
        fds[1] = new PollFd { Fd = xfd, Events = Libc.POLLIN };
        Libc.poll(fds, xfd >= 0 ? 2u : 1u, timeoutMs);
        _bell.Drain();
    }

    private int NextWakeMs()
    {
        if (_read is null && _transfers.Count == 0) return 1000;
        var now = Stopwatch.GetTimestamp();
        var next = long.MaxValue;
        if (_read is not null) next = Math.Min(next, _read.Deadline);
        foreach (var t in _transfers) next = Math.Min(next, t.Deadline);
        var ms = (next - now) * 1000 / Stopwatch.Frequency;
        return (int)Math.Clamp(ms + 1, 1, 1000);
    }

    /// <summary>One pass on an open display: new operations, then the events that arrived, then deadlines.</summary>
    private unsafe int Step(XSession s)
    {
        var w = s.GetOrAttach("clipboard", static session => new SelectionWindow(session));
        if (s.Generation != _generation)
        {
            // A fresh connection: whatever we owned went with the old one.
            ForgetSession(SandboxException.Unavailable("the X connection was reopened during the clipboard operation"));
            _generation = s.Generation;
        }
        while (_ops.TryDequeue(out var op))
        {
            try
            {
                switch (op)
                {
                    case SetOp set: Own(s, w, set); break;
                    case GetOp get: _waitingReads.Enqueue(get); break;
                }
            }
            catch (SandboxException failure) { op.Fail(failure); }
        }
        XEvent e;
        while (!s.Broken && Xlib.XPending(s.Handle) > 0 && !s.Broken)
        {
            Xlib.XNextEvent(s.Handle, &e);
            try { Handle(s, w, &e); }
            catch (SandboxException failure) { FailRead(failure); }
        }
        ExpireDeadlines(s);
        while (_read is null && _waitingReads.TryDequeue(out var next))
        {
            try { StartRead(s, w, next); }
            catch (SandboxException ex) { next.Fail(ex); }
        }
        Xlib.XFlush(s.Handle);
        return Xlib.XConnectionNumber(s.Handle);
    }

    private void ForgetSession(Exception failure)
    {
        _owned.Clear();
        _transfers.Clear();
        FailRead(failure);
        while (_waitingReads.TryDequeue(out var g)) g.Fail(failure);
    }

    private void Own(XSession s, SelectionWindow w, SetOp op)
    {
        var selection = w.SelectionAtom(op.Selection);
        _owned[selection] = op.Content;
        Xlib.XSetSelectionOwner(s.Handle, selection, w.Window, 0);
        if (Xlib.XGetSelectionOwner(s.Handle, selection) != w.Window)
        {
            if (s.Broken) throw SandboxException.Unavailable("lost the X display while taking the selection");
            _owned.Remove(selection);
            throw SandboxException.Conflict($"the X server did not make us the owner of {ClipboardContent.Name(op.Selection)}");
        }
        op.Done.TrySetResult();
    }

    private unsafe void Handle(XSession s, SelectionWindow w, XEvent* e)
    {
        switch (e->Type)
        {
            case Xlib.SelectionRequest:
                Answer(s, w, (XSelectionRequestEvent*)e);
                break;
            case Xlib.SelectionClear:
                var clear = (XSelectionClearEvent*)e;
                // Another client took the selection: our content is no longer what it holds.
                if (clear->Window == w.Window) _owned.Remove(clear->Selection);
                break;
            case Xlib.SelectionNotify:
                OnConverted(s, w, (XSelectionEvent*)e);
                break;
            case Xlib.PropertyNotify:
                var p = (XPropertyEvent*)e;
                if (p->State == Xlib.PropertyNewValue && p->Window == w.Window && p->Atom == w.Property) OnIncrChunk(s, w);
                else if (p->State == Xlib.PropertyDelete) OnRequestorTook(s, p->Window, p->Atom);
                break;
        }
    }

    // ---- answering requests for what we own ----

    private unsafe void Answer(XSession s, SelectionWindow w, XSelectionRequestEvent* r)
    {
        // ICCCM: a None property comes from obsolete clients and means "use the target's name".
        var property = r->Property != 0 ? r->Property : r->Target;
        var ok = r->Owner == w.Window && _owned.TryGetValue(r->Selection, out var content)
            && Provide(s, w, r->Requestor, property, r->Target, content);
        if (ok && r->Target != w.Targets) Interlocked.Increment(ref _served);
        var notify = new XSelectionEvent
        {
            Type = Xlib.SelectionNotify,
            SendEvent = 1,
            Display = s.Handle,
            Requestor = r->Requestor,
            Selection = r->Selection,
            Target = r->Target,
            Property = ok ? property : 0,
            Time = r->Time,
        };
        Xlib.XSendEvent(s.Handle, r->Requestor, 0, 0, (XEvent*)&notify);
    }

    /// <summary>Writes the content converted to <paramref name="target"/> on the requestor's property; false to refuse.</summary>
    private unsafe bool Provide(XSession s, SelectionWindow w, nuint requestor, nuint property, nuint target, ClipboardContent content)
    {
        if (target == w.Targets)
        {
            var list = content.Kind == ClipboardKind.Text
                ? new[] { w.Targets, w.Utf8String, w.TextPlainUtf8, Xlib.XA_STRING, w.Text }
                : new[] { w.Targets, w.ImagePng };
            fixed (nuint* p = list)
                Xlib.XChangeProperty(s.Handle, requestor, property, Xlib.XA_ATOM, 32, Xlib.PropModeReplace, (byte*)p, list.Length);
            return true;
        }
        byte[] data;
        nuint type;
        if (content.Kind == ClipboardKind.Text && (target == w.Utf8String || target == w.TextPlainUtf8 || target == w.Text))
        {
            data = content.Data;
            // TEXT lets the owner pick the encoding: UTF8_STRING.
            type = target == w.Text ? w.Utf8String : target;
        }
        else if (content.Kind == ClipboardKind.Text && target == Xlib.XA_STRING)
        {
            data = Encoding.Latin1.GetBytes(content.Text);
            type = Xlib.XA_STRING;
        }
        else if (content.Kind == ClipboardKind.Image && target == w.ImagePng)
        {
            data = content.Data;
            type = w.ImagePng;
        }
        else return false;

        var chunk = Math.Min(_o.IncrChunkBytes, w.MaxPropertyBytes);
        if (data.Length <= chunk)
        {
            fixed (byte* p = data)
                Xlib.XChangeProperty(s.Handle, requestor, property, type, 8, Xlib.PropModeReplace, p, data.Length);
            return true;
        }
        // INCR: announce the size; each time the requestor deletes the property, the next chunk goes on it.
        Xlib.XSelectInput(s.Handle, requestor, Xlib.PropertyChangeMask);
        nuint size = (nuint)data.Length;
        Xlib.XChangeProperty(s.Handle, requestor, property, w.Incr, 32, Xlib.PropModeReplace, (byte*)&size, 1);
        _transfers.Add(new Transfer(requestor, property, type, data, chunk) { Deadline = Deadline(_o.TransferTimeoutMs) });
        return true;
    }

    private unsafe void OnRequestorTook(XSession s, nuint requestor, nuint property)
    {
        var t = _transfers.Find(t => t.Requestor == requestor && t.Property == property);
        if (t is null) return;
        var n = Math.Min(t.Chunk, t.Data.Length - t.Offset);
        fixed (byte* p = t.Data)
            Xlib.XChangeProperty(s.Handle, requestor, property, t.Type, 8, Xlib.PropModeReplace, p + t.Offset, n);
        t.Offset += n;
        t.Deadline = Deadline(_o.TransferTimeoutMs);
        // A zero-length chunk ends the transfer; nothing more is expected from that requestor for it.
        if (n == 0) EndTransfer(s, t);
    }

    private void EndTransfer(XSession s, Transfer t)
    {
        _transfers.Remove(t);
        if (!_transfers.Exists(o => o.Requestor == t.Requestor))
            Xlib.XSelectInput(s.Handle, t.Requestor, 0);
    }

    // ---- reading what another client owns ----

    private void StartRead(XSession s, SelectionWindow w, GetOp op)
    {
        var selection = w.SelectionAtom(op.Selection);
        var name = ClipboardContent.Name(op.Selection);
        var owner = Xlib.XGetSelectionOwner(s.Handle, selection);
        if (owner == w.Window && _owned.TryGetValue(selection, out var mine))
        {
            if (mine.Kind != op.Kind)
                throw SandboxException.NotFound($"{name} holds {(mine.Kind == ClipboardKind.Text ? "text" : "an image")}, not {(op.Kind == ClipboardKind.Text ? "text" : "an image")}");
            op.Done.TrySetResult(mine);
            return;
        }
        if (owner == 0)
        {
            op.Done.TrySetResult(ClipboardContent.Empty(op.Kind));
            return;
        }
        var targets = op.Kind == ClipboardKind.Text
            ? new[] { w.Utf8String, w.TextPlainUtf8, Xlib.XA_STRING, w.Text }
            : new[] { w.ImagePng };
        _read = new Read(op, selection, targets) { Deadline = Deadline(_o.ReadTimeoutMs) };
        Convert(s, w);
    }

    private void Convert(XSession s, SelectionWindow w)
    {
        var r = _read!;
        Xlib.XDeleteProperty(s.Handle, w.Window, w.Property);
        Xlib.XConvertSelection(s.Handle, r.Selection, r.Targets[r.Index], w.Property, w.Window, 0);
    }

    private unsafe void OnConverted(XSession s, SelectionWindow w, XSelectionEvent* e)
    {
        var r = _read;
        if (r is null || r.Incr || e->Requestor != w.Window || e->Selection != r.Selection) return;
        if (e->Property == 0)
        {
            if (++r.Index < r.Targets.Length) { Convert(s, w); return; }
            FailRead(SandboxException.NotFound(
                $"the owner of {ClipboardContent.Name(r.Op.Selection)} offers no {(r.Op.Kind == ClipboardKind.Text ? "text" : "image/png")}"));
            return;
        }
        var (type, data) = ReadProperty(s, w);
        if (type == w.Incr)
        {
            // Deleting the property (done by the read) asks the owner for the first chunk.
            r.Incr = true;
            r.Buffer = new MemoryStream();
            r.Deadline = Deadline(_o.ReadTimeoutMs);
            return;
        }
        Complete(w, type, data);
    }

    private void OnIncrChunk(XSession s, SelectionWindow w)
    {
        var r = _read;
        if (r is null || !r.Incr) return;
        var (type, data) = ReadProperty(s, w);
        if (data.Length == 0)
        {
            Complete(w, type, r.Buffer!.ToArray());
            return;
        }
        if (r.Buffer!.Length + data.Length > _o.MaxBytes)
        {
            FailRead(SandboxException.TooLarge($"the selection is larger than {_o.MaxBytes} bytes (SANDBOX_CLIPBOARD_MAX_BYTES)"));
            return;
        }
        r.Buffer.Write(data);
        r.Deadline = Deadline(_o.ReadTimeoutMs);
    }

    private void Complete(SelectionWindow w, nuint type, byte[] data)
    {
        var r = _read!;
        _read = null;
        ClipboardContent content;
        if (r.Op.Kind == ClipboardKind.Image)
        {
            // Some owners (xclip) answer every target with the same bytes: only a real PNG is an image.
            if (!data.AsSpan().StartsWith(ClipboardContent.PngSignature))
            {
                r.Op.Fail(SandboxException.NotFound($"the owner of {ClipboardContent.Name(r.Op.Selection)} offers no PNG image"));
                return;
            }
            content = new ClipboardContent(ClipboardKind.Image, data);
        }
        else
        {
            // Some owners end text with a NUL; STRING is Latin-1, everything else we asked for is UTF-8.
            var span = data.AsSpan();
            if (span.Length > 0 && span[^1] == 0) span = span[..^1];
            var text = type == Xlib.XA_STRING ? Encoding.Latin1.GetString(span) : Encoding.UTF8.GetString(span);
            content = ClipboardContent.FromText(text);
        }
        r.Op.Done.TrySetResult(content);
    }

    private unsafe (nuint Type, byte[] Data) ReadProperty(XSession s, SelectionWindow w)
    {
        nuint type, items, after;
        int format;
        byte* p;
        var longs = (nint)(_o.MaxBytes / 4 + 1);
        if (Xlib.XGetWindowProperty(s.Handle, w.Window, w.Property, 0, longs, 1, Xlib.AnyPropertyType,
                &type, &format, &items, &after, &p) != Xlib.Success)
            throw SandboxException.Unavailable("cannot read the converted selection");
        try
        {
            if (after > 0)
                throw SandboxException.TooLarge($"the selection is larger than {_o.MaxBytes} bytes (SANDBOX_CLIPBOARD_MAX_BYTES)");
            var unit = format switch { 8 => 1, 16 => 2, 32 => sizeof(nint), _ => 0 };
            var data = p is null ? [] : new ReadOnlySpan<byte>(p, checked((int)items * unit)).ToArray();
            return (type, data);
        }
        finally
        {
            if (p is not null) Xlib.XFree(p);
        }
    }

    private void FailRead(Exception e)
    {
        var r = _read;
        _read = null;
        r?.Op.Fail(e);
    }

    private void ExpireDeadlines(XSession s)
    {
        var now = Stopwatch.GetTimestamp();
        if (_read is { } r && now > r.Deadline)
            FailRead(SandboxException.Timeout(
                $"the owner of {ClipboardContent.Name(r.Op.Selection)} did not answer within {_o.ReadTimeoutMs} ms"));
        foreach (var t in _transfers.ToArray())
            if (now > t.Deadline)
            {
                _log.LogInformation("clipboard: dropped an INCR transfer to window 0x{Window:x} that stopped taking chunks", t.Requestor);
                EndTransfer(s, t);
            }
    }

    private static long Deadline(int ms) => Stopwatch.GetTimestamp() + ms * Stopwatch.Frequency / 1000;

    public void Dispose()
    {
        lock (_startLock)
        {
            if (_stopping) return;
            _stopping = true;
        }
        _bell.Ring();
        _thread?.Join(5000);
        var gone = new ObjectDisposedException(nameof(ClipboardService));
        while (_ops.TryDequeue(out var op)) op.Fail(gone);
        _x.Dispose();
        _bell.Dispose();
    }

    private abstract class Op
    {
        public abstract void Fail(Exception e);
    }

    private sealed class SetOp(ClipboardSelection selection, ClipboardContent content) : Op
    {
        public ClipboardSelection Selection { get; } = selection;
        public ClipboardContent Content { get; } = content;
        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public override void Fail(Exception e) => Done.TrySetException(e);
    }

    private sealed class GetOp(ClipboardSelection selection, ClipboardKind kind) : Op
    {
        public ClipboardSelection Selection { get; } = selection;
        public ClipboardKind Kind { get; } = kind;
        public TaskCompletionSource<ClipboardContent> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public override void Fail(Exception e) => Done.TrySetException(e);
    }

    private sealed class Read(GetOp op, nuint selection, nuint[] targets)
    {
        public GetOp Op { get; } = op;
        public nuint Selection { get; } = selection;
        public nuint[] Targets { get; } = targets;
        public int Index;
        public bool Incr;
        public MemoryStream? Buffer;
        public long Deadline;
    }

    private sealed class Transfer(nuint requestor, nuint property, nuint type, byte[] data, int chunk)
    {
        public nuint Requestor { get; } = requestor;
        public nuint Property { get; } = property;
        public nuint Type { get; } = type;
        public byte[] Data { get; } = data;
        public int Chunk { get; } = chunk;
        public int Offset;
        public long Deadline;
    }
}
