using System.Diagnostics;
using System.IO.Hashing;
using Sandbox.Common;
using Sandbox.Display;
using Sandbox.Native;

namespace Sandbox.Desktop;

/// <summary>Which window a wait looks for: any of the given fields must all match.</summary>
internal sealed record WindowMatch(ulong? Id, int? Pid, string? Class, string? Title);

internal sealed record WaitRegion(int X, int Y, int Width, int Height);

/// <summary>The body of <c>POST /wait</c>.</summary>
internal sealed record WaitRequest(string? Until, int? QuietMs, int? TimeoutMs, WindowMatch? Window, WaitRegion? Region, int? Pid);

/// <summary>The answer: which condition held and after how long (ms since the wait began).</summary>
internal sealed record WaitAnswer(string Until, bool Met, long ElapsedMs, long? LastChangeMs, WindowInfo? Window);

/// <summary>
/// <c>POST /wait</c>: screen_settled and pixel_changed are driven by XDamage on the root window (the server
/// reports drawing; nothing polls screenshots); window_exists / window_gone re-read the window list each
/// <see cref="DesktopOptions.WaitPollMs"/>; process_exit watches /proc. Damage waits run one at a time on
/// the wait connection (they queue for up to their timeout).
/// </summary>
internal sealed class WaitService(XDisplayConnection x, DesktopService desktop, DesktopOptions options) : IDisposable
{
    public async Task<WaitAnswer> WaitAsync(WaitRequest r, CancellationToken ct)
    {
        var until = (r.Until ?? "").Trim().ToLowerInvariant();
        var timeout = r.TimeoutMs ?? options.DefaultWaitTimeoutMs;
        if (timeout < 0 || timeout > options.MaxWaitTimeoutMs)
            throw SandboxException.BadField("timeout_ms", $"timeout_ms must be 0..{options.MaxWaitTimeoutMs}");
        var start = Stopwatch.GetTimestamp();
        switch (until)
        {
            case "screen_settled":
                var quiet = r.QuietMs ?? 300;
                if (quiet < 1 || quiet > options.MaxWaitTimeoutMs) throw SandboxException.BadField("quiet_ms", $"quiet_ms must be 1..{options.MaxWaitTimeoutMs}");
                return await Task.Run(() => Damage(until, start, timeout, quiet, null, ct), ct);
            case "pixel_changed":
                var region = r.Region ?? throw SandboxException.BadField("region", "pixel_changed needs region {x, y, width, height}");
                if (region.Width < 1 || region.Height < 1 || region.X < 0 || region.Y < 0)
                    throw SandboxException.BadField("region", "region needs x, y >= 0 and positive width and height");
                return await Task.Run(() => Damage(until, start, timeout, 0, region, ct), ct);
            case "window_exists" or "window_gone":
                var match = r.Window ?? throw SandboxException.BadField("window", $"{until} needs window {{id | pid | class | title}}");
                if (match is { Id: null, Pid: null, Class: null, Title: null })
                    throw SandboxException.BadField("window", "give at least one of id, pid, class, title");
                return await PollAsync(until, start, timeout, () =>
                {
                    var found = desktop.List().Windows.FirstOrDefault(w => Matches(w, match));
                    return until == "window_exists" ? (found is not null, found) : (found is null, null);
                }, $"a window matching {Describe(match)} to {(until == "window_exists" ? "appear" : "go away")}", ct);
            case "process_exit":
                var pid = r.Pid ?? throw SandboxException.BadField("pid", "process_exit needs pid");
                if (pid < 1) throw SandboxException.BadField("pid", "pid must be positive");
                return await PollAsync(until, start, timeout, () => (!Alive(pid), null), $"process {pid} to exit", ct);
            default:
                throw SandboxException.BadField("until", $"until={r.Until}: expected screen_settled, pixel_changed, window_exists, window_gone or process_exit");
        }
    }

    public static bool Matches(WindowInfo w, WindowMatch m) =>
        (m.Id is null || w.Id == m.Id)
        && (m.Pid is null || w.Pid == m.Pid)
        && (m.Class is null || string.Equals(w.WmClass, m.Class, StringComparison.OrdinalIgnoreCase)
            || string.Equals(w.WmInstance, m.Class, StringComparison.OrdinalIgnoreCase))
        && (m.Title is null || (w.Title?.Contains(m.Title, StringComparison.OrdinalIgnoreCase) ?? false));

    public static string Describe(WindowMatch m) => string.Join(", ", new[]
    {
        m.Id is { } id ? $"id 0x{id:x}" : null, m.Pid is { } p ? $"pid {p}" : null,
        m.Class is { } c ? $"class \"{c}\"" : null, m.Title is { } t ? $"title containing \"{t}\"" : null,
    }.Where(s => s is not null));

    /// <summary>True while /proc has the process and it is not a zombie.</summary>
    public static bool Alive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var close = stat.LastIndexOf(')');
            return close < 0 || close + 2 >= stat.Length || stat[close + 2] is not ('Z' or 'X');
        }
        catch (IOException) { return false; }
        catch (UnauthorizedAccessException) { return true; }
    }

    private async Task<WaitAnswer> PollAsync(string until, long start, int timeout, Func<(bool Met, WindowInfo? Window)> check, string what,
        CancellationToken ct)
    {
        while (true)
        {
            var (met, window) = check();
            var elapsed = (long)Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            if (met) return new WaitAnswer(until, true, elapsed, null, window);
            if (elapsed >= timeout) throw SandboxException.Timeout($"{until}: waited {timeout} ms in vain for {what}");
            await Task.Delay(Math.Min(options.WaitPollMs, (int)Math.Max(1, timeout - elapsed)), ct);
        }
    }

    private unsafe WaitAnswer Damage(string until, long start, int timeout, int quietMs, WaitRegion? region, CancellationToken ct) =>
        x.Run(s =>
        {
            int ev, err;
            if (XDamage.XDamageQueryExtension(s.Handle, &ev, &err) == 0)
                throw SandboxException.Unavailable("the X server has no DAMAGE extension");
            int major = 1, minor = 1;
            XDamage.XDamageQueryVersion(s.Handle, &major, &minor);
            if (region is not null && (region.X + region.Width > s.ScreenWidth || region.Y + region.Height > s.ScreenHeight))
                throw SandboxException.BadField("region", $"region must lie inside the {s.ScreenWidth}x{s.ScreenHeight} screen");
            var damage = XDamage.XDamageCreate(s.Handle, s.Root, XDamage.ReportNonEmpty);
            try
            {
                var baseline = region is null ? 0 : Hash(s, region);
                long? lastChange = null;
                var fd = Xlib.XConnectionNumber(s.Handle);
                XEvent e;
                while (true)
                {
                    var damaged = false;
                    while (!s.Broken && Xlib.XPending(s.Handle) > 0 && !s.Broken)
                    {
                        Xlib.XNextEvent(s.Handle, &e);
                        if (e.Type == ev + XDamage.Notify) damaged = true;
                    }
                    if (s.Broken) throw SandboxException.Unavailable("lost the X display during the wait");
                    var elapsed = (long)Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                    if (damaged)
                    {
                        XDamage.XDamageSubtract(s.Handle, damage, 0, 0);
                        Xlib.XFlush(s.Handle);
                        if (region is not null)
                        {
                            if (Hash(s, region) != baseline) return new WaitAnswer(until, true, elapsed, elapsed, null);
                        }
                        else lastChange = elapsed;
                    }
                    if (region is null && elapsed - (lastChange ?? 0) >= quietMs)
                        return new WaitAnswer(until, true, elapsed, lastChange, null);
                    if (elapsed >= timeout)
                        throw SandboxException.Timeout(region is null
                            ? $"screen_settled: the screen kept changing for {timeout} ms (last change at {lastChange} ms; quiet_ms {quietMs})"
                            : $"pixel_changed: region {region.X},{region.Y} {region.Width}x{region.Height} did not change in {timeout} ms");
                    ct.ThrowIfCancellationRequested();
                    var next = region is null ? Math.Min(timeout - elapsed, (lastChange ?? 0) + quietMs - elapsed) : timeout - elapsed;
                    var pfd = new PollFd { Fd = fd, Events = Libc.POLLIN };
                    Libc.poll(&pfd, 1, (int)Math.Clamp(next, 1, 1000));
                }
            }
            finally
            {
                if (!s.Broken)
                {
                    XDamage.XDamageDestroy(s.Handle, damage);
                    s.SyncAndTakeError();
                }
            }
        }, timeout + options.DisplayTimeoutMs, retryOnDeadConnection: false);

    private static unsafe ulong Hash(XSession s, WaitRegion r)
    {
        var image = Xlib.XGetImage(s.Handle, s.Root, r.X, r.Y, (uint)r.Width, (uint)r.Height, Xlib.AllPlanes, Xlib.ZPixmap);
        if (image == null) throw SandboxException.Unavailable("cannot read the region");
        try { return XxHash3.HashToUInt64(new ReadOnlySpan<byte>(image->Data, image->BytesPerLine * image->Height)); }
        finally { Xlib.DestroyImage(image); }
    }

    public void Dispose() => x.Dispose();
}
