using System.Text;
using Microsoft.Extensions.Logging;
using Sandbox.Native;
using Sandbox.Common;

namespace Sandbox.Gateway;

/// <summary>
/// The gateway's log file (SHARED_DIR/jupyter-kernel.log, as the old suite's). Kernels write their own
/// stdout/stderr into the same file, so both sides open it O_APPEND and every line lands whole at the end.
/// </summary>
internal sealed class GatewayLog : ILoggerProvider
{
    private readonly object _lock = new();
    private readonly LogLevel _minimum;
    private int _fd = -1;

    private readonly long _maxBytes;
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
            _fd = -1;
        }
    }

    public string Path { get; }

    private static unsafe int Open(string path)
    {
        var bytes = Encoding.UTF8.GetBytes(path + "\0");
        fixed (byte* p = bytes)
            return Libc.OpenFile(p, LibcProc.O_WRONLY | LibcProc.O_CREAT | LibcProc.O_APPEND | LibcProc.O_CLOEXEC | LibcProc.O_NOFOLLOW, (uint)PrivateFiles.FileMode);
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
            if (_fd < 0) { Console.Error.Write(line + "\n"); return; }
            if (_maxBytes > 0 && _bytes + bytes.Length > _maxBytes && _bytes > 0) Rotate();
            _bytes += bytes.Length;
            fixed (byte* p = bytes)
            {
                var done = 0;
                while (done < bytes.Length)
                {
                    var n = Libc.WriteFile(_fd, p + done, (nuint)(bytes.Length - done));
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
            var fd = Open(Path);
            if (fd < 0) return;
            Libc.CloseFile(_fd);
            _fd = fd;
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
        lock (_lock)
        {
            if (_fd >= 0) Libc.CloseFile(_fd);
            _fd = -1;
        }
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
