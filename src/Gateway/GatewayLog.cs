using System.Text;
using Microsoft.Extensions.Logging;
using Sandbox.Common;
using Sandbox.Native;

namespace Sandbox.Gateway;

/// <summary>
/// The gateway's log file (SHARED_DIR/jupyter-kernel.log, as the old suite's). Kernels write their own
/// stdout/stderr into the same file, so both sides open it O_APPEND and every line lands whole at the end.
/// </summary>
internal sealed class GatewayLog : ILoggerProvider
{
    private readonly object _lock = new();
    private readonly LogLevel _minimum;
    private readonly long _maxBytes;
    private SafeFd? _fd;
    private long _bytes;

    /// <param name="maxBytes">Past this size the file is renamed to <c>.1</c> (replacing the previous one) and
    /// a new one started, as start.sh rotates the services log (<c>SANDBOX_LOG_MAX_BYTES</c>); 0 = never.</param>
    public GatewayLog(string path, LogLevel minimum = LogLevel.Information, long maxBytes = 0)
    {
        Path = path;
        _minimum = minimum;
        _maxBytes = maxBytes;
        try
        {
            PrivateFiles.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
            _fd = Open(path);
            _bytes = new FileInfo(path).Length;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _fd = null;
        }
    }

    public string Path { get; }

    /// <summary>The log opened for appending; null when it cannot be opened (lines then go to stderr).</summary>
    private static unsafe SafeFd? Open(string path)
    {
        var bytes = Encoding.UTF8.GetBytes(path + "\0");
        fixed (byte* p = bytes)
        {
            // Private, and never through a symlink someone planted at our log's name.
            var fd = new SafeFd(Libc.open(p, Libc.O_WRONLY | Libc.O_CREAT | Libc.O_APPEND | Libc.O_CLOEXEC | Libc.O_NOFOLLOW, (uint)PrivateFiles.FileMode));
            if (!fd.IsInvalid) return fd;
            fd.Dispose();
            return null;
        }
    }

    public void Write(LogLevel level, string category, string message, Exception? exception = null)
    {
        if (level < _minimum) return;
        var line = $"[{LevelName(level)} {DateTime.UtcNow:yyyy-MM-dd HH:mm:ss.fff} {category}] {message}";
        if (exception is not null) line += Environment.NewLine + exception;
        WriteLine(line);
    }

    public unsafe void WriteLine(string line)
    {
        var bytes = Encoding.UTF8.GetBytes(line + "\n");
        lock (_lock)
        {
            if (_fd is not null && _maxBytes > 0 && _bytes > 0 && _bytes + bytes.Length > _maxBytes) Rotate();
            _bytes += bytes.Length;
            using var fd = _fd is null ? default : _fd.Acquire();
            if (!fd.IsOpen) { Console.Error.Write(line + "\n"); return; }
            fixed (byte* p = bytes)
            {
                var done = 0;
                while (done < bytes.Length)
                {
                    var n = Libc.write(fd.Fd, p + done, (nuint)(bytes.Length - done));
                    if (n <= 0) break;
                    done += (int)n;
                }
            }
        }
    }

    /// <summary>Under the lock: the full file becomes <c>.1</c>; a failed rename keeps writing where it was.</summary>
    private void Rotate()
    {
        try
        {
            File.Move(Path, Path + ".1", overwrite: true);
            if (Open(Path) is not { } fresh) return;
            _fd?.Dispose();
            _fd = fresh;
            _bytes = 0;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    private static string LevelName(LogLevel level) => level switch
    {
        LogLevel.Trace => "T", LogLevel.Debug => "D", LogLevel.Information => "I",
        LogLevel.Warning => "W", LogLevel.Error => "E", _ => "C",
    };

    public ILogger CreateLogger(string categoryName) => new Logger(this, ShortCategory(categoryName));

    private static string ShortCategory(string c) => c.StartsWith("Sandbox.Gateway.", StringComparison.Ordinal) ? c["Sandbox.Gateway.".Length..] : c;

    public void Dispose()
    {
        lock (_lock) _fd?.Dispose();
    }

    private sealed class Logger(GatewayLog log, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => logLevel >= log._minimum;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel)) log.Write(logLevel, category, formatter(state, exception), exception);
        }
    }
}
