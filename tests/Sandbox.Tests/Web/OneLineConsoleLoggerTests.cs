using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;
using Sandbox.Web;

namespace Sandbox.Tests.Web;

/// <summary>The appliance's console log writes exactly what ASP.NET's SimpleConsole formatter wrote with the old settings.</summary>
public sealed class OneLineConsoleLoggerTests
{
    public static TheoryData<LogLevel, string?, bool, bool> Entries() => new()
    {
        { LogLevel.Information, "Now listening on: http://127.0.0.1:8765", false, false },
        { LogLevel.Warning, "two\nlines", false, false },
        { LogLevel.Error, "failed", true, false },
        { LogLevel.Critical, null, true, false },
        { LogLevel.Debug, "", false, false },
        { LogLevel.Trace, "t", false, false },
        { LogLevel.Information, "coloured", false, true },
        { LogLevel.Warning, "coloured", true, true },
        { LogLevel.Error, "coloured", false, true },
        { LogLevel.Critical, "coloured", false, true },
        { LogLevel.Debug, "coloured", false, true },
    };

    [Theory]
    [MemberData(nameof(Entries))]
    public void Writes_what_the_SimpleConsole_formatter_wrote(LogLevel level, string? message, bool withException, bool colors)
    {
        Exception? exception = null;
        if (withException)
            try { throw new InvalidOperationException("boom\nsecond line"); }
            catch (InvalidOperationException e) { exception = e; }

        var services = new ServiceCollection();
        services.AddLogging(b => b.AddSimpleConsole(c =>
        {
            c.SingleLine = true;
            c.UseUtcTimestamp = true;
            c.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
            c.ColorBehavior = colors ? LoggerColorBehavior.Enabled : LoggerColorBehavior.Disabled;
        }));
        using var provider = services.BuildServiceProvider();
        var formatter = provider.GetServices<ConsoleFormatter>().Single(f => f.Name == ConsoleFormatterNames.Simple);
        var expected = new StringWriter();
        formatter.Write(new LogEntry<string?>(level, "Sandbox.Test", new EventId(7), message, exception, (s, _) => s!), null, expected);

        var actual = OneLineConsoleLogger.Format(DateTimeOffset.UtcNow, level, "Sandbox.Test", new EventId(7), message, exception, colors) ?? "";
        Assert.Equal(WithoutTimestamp(expected.ToString()), WithoutTimestamp(actual));
    }

    [Fact]
    public void Writes_one_line_per_entry_to_its_stream_with_a_UTC_timestamp()
    {
        var output = new MemoryStream();
        using var factory = new LoggerFactory([new OneLineConsoleLogger(output, colors: false)], new LoggerFilterOptions { MinLevel = LogLevel.Information });
        var log = factory.CreateLogger("Sandbox.Api");
        log.LogDebug("not written");
        log.LogWarning("first\nentry");
        log.LogInformation(new EventId(3), "second");
        var lines = System.Text.Encoding.UTF8.GetString(output.ToArray()).Split('\n');
        Assert.Equal(3, lines.Length);
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z warn: Sandbox\.Api\[0\] first entry$", lines[0]);
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z info: Sandbox\.Api\[3\] second$", lines[1]);
        Assert.Equal("", lines[2]);
    }

    private static string WithoutTimestamp(string line) =>
        Regex.Replace(line, @"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z ", "<ts> ");
}
