using System.Text;
using Microsoft.Extensions.Logging;

namespace Sandbox.Web;

/// <summary>
/// The appliance's console log: one line per entry on stdout, UTC timestamps, in the format of ASP.NET's
/// SimpleConsole formatter with <c>SingleLine</c> and <c>TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ "</c>
/// (what the appliance used before): <c>2026-11-30T01:02:03.456Z info: Category[eventId] message exception</c>,
/// line breaks inside the message or exception replaced by spaces (journald and the rotated log file read it
/// line by line). The level is coloured as SimpleConsole does only when stdout is a terminal.
/// Why not the framework's console logger: at cold start it costs milliseconds before the first answer
/// (a provider, three formatters and their option monitors made through DI's open generics by Native AOT's
/// runtime type loader, and a writer thread); this writes each line with one write on the caller's thread.
/// </summary>
internal sealed class OneLineConsoleLogger : ILoggerProvider
{
    public const string TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
    private readonly object _lock = new();
    private readonly Stream _out;
    private readonly bool _colors;

    public OneLineConsoleLogger() : this(Console.OpenStandardOutput(), EmitColors()) { }

    /// <summary>Writes to <paramref name="output"/> (tests); <paramref name="colors"/>: ANSI colours on the level.</summary>
    public OneLineConsoleLogger(Stream output, bool colors)
    {
        _out = output;
        _colors = colors;
    }

    /// <summary>As the console logger decides (ColorBehavior.Default): a terminal, or redirection allowed by the variable.</summary>
    private static bool EmitColors()
    {
        var allow = Environment.GetEnvironmentVariable("DOTNET_SYSTEM_CONSOLE_ALLOW_ANSI_COLOR_REDIRECTION");
        if (allow is not null && (allow == "1" || allow.Equals("true", StringComparison.OrdinalIgnoreCase))) return true;
        return !Console.IsOutputRedirected;
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose() { }

    /// <summary>The line for one entry, without colours, ending in a newline; null when there is nothing to write.</summary>
    public static string? Format(DateTimeOffset now, LogLevel level, string category, EventId eventId, string? message, Exception? exception, bool colors = false)
    {
        if (exception is null && message is null) return null;
        var line = new StringBuilder(96 + (message?.Length ?? 0));
        line.Append(now.ToString(TimestampFormat));
        var (name, fg, bg) = Level(level);
        if (colors) line.Append(bg).Append(fg).Append(name).Append("\x1B[39m\x1B[22m").Append("\x1B[49m");
        else line.Append(name);
        line.Append(": ").Append(category).Append('[').Append(eventId.Id).Append(']');
        AppendOneLine(line, message);
        AppendOneLine(line, exception?.ToString());
        return line.Append(Environment.NewLine).ToString();
    }

    private static void AppendOneLine(StringBuilder line, string? text)
    {
        if (string.IsNullOrEmpty(text)) return;
        line.Append(' ').Append(text.Replace(Environment.NewLine, " "));
    }

    /// <summary>SimpleConsole's level names and colours (foreground, background escape codes).</summary>
    private static (string Name, string Fg, string Bg) Level(LogLevel level) => level switch
    {
        LogLevel.Trace => ("trce", "\x1B[37m", "\x1B[40m"),
        LogLevel.Debug => ("dbug", "\x1B[37m", "\x1B[40m"),
        LogLevel.Information => ("info", "\x1B[32m", "\x1B[40m"),
        LogLevel.Warning => ("warn", "\x1B[1m\x1B[33m", "\x1B[40m"),
        LogLevel.Error => ("fail", "\x1B[30m", "\x1B[41m"),
        LogLevel.Critical => ("crit", "\x1B[1m\x1B[37m", "\x1B[41m"),
        _ => (level.ToString(), "", ""),
    };

    private void Write(string line)
    {
        var bytes = Encoding.UTF8.GetBytes(line);
        lock (_lock)
        {
            try
            {
                _out.Write(bytes);
                _out.Flush();
            }
            catch (IOException) { } // stdout closed: the entry is lost, as the console logger's would be
        }
    }

    private sealed class Logger(OneLineConsoleLogger owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel)) return;
            if (Format(DateTimeOffset.UtcNow, logLevel, category, eventId, formatter(state, exception), exception, owner._colors) is { } line)
                owner.Write(line);
        }
    }
}
