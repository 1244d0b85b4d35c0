using System.Text;
using Microsoft.Extensions.Logging;
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
    private int _fd = -1;

    public GatewayLog(string path, LogLevel minimum = LogLevel.Information)
    {
        Path = path;
        _minimum = minimum;
        try
        {
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
            _fd = Open(path);
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
            return Libc.OpenFile(p, LibcProc.O_WRONLY | LibcProc.O_CREAT | LibcProc.O_APPEND | LibcProc.O_CLOEXEC, 0x1a4);
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
