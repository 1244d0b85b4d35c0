using Sandbox.E2E.Infrastructure;

namespace Sandbox.E2E.Hosting;

/// <summary>
/// Cold start (docs/performance.md, "Third round: cold start"): the binary's zero-filled tail (.bss and the
/// runtime's rehydrated data) is advised MADV_HUGEPAGE by the ELF constructor linked from native/c/hugepages.c
/// before the runtime starts. Asserted on the kernel's record of the advice (smaps VmFlags "hg"), which does not
/// depend on whether a huge page could be had at that moment; SANDBOX_STARTUP_HUGEPAGES=false leaves it out.
/// </summary>
public sealed class StartupHugePagesTests
{
    [Fact]
    public void The_binarys_zero_filled_data_is_advised_huge_pages()
    {
        using var app = ApplianceProcess.Start(null);
        Assert.Contains("hg", DataTailFlags(app.Pid));
    }

    [Fact]
    public void SANDBOX_STARTUP_HUGEPAGES_false_turns_the_advice_off()
    {
        using var app = ApplianceProcess.Start(null, new Dictionary<string, string?> { ["SANDBOX_STARTUP_HUGEPAGES"] = "false" });
        Assert.DoesNotContain("hg", DataTailFlags(app.Pid));
        using var health = app.Http.GetAsync("/health").Result;
        Assert.True(health.IsSuccessStatusCode);
    }

    /// <summary>The VmFlags of the anonymous mapping right after the binary's last (writable) file mapping.</summary>
    private static string[] DataTailFlags(int pid)
    {
        var binary = new FileInfo($"/proc/{pid}/exe").LinkTarget!;
        var lines = File.ReadAllLines($"/proc/{pid}/smaps");
        var afterBinary = false;
        for (var i = 0; i < lines.Length; i++)
        {
            var f = lines[i].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length < 5 || !f[0].Contains('-') || !f[0].Split('-').All(h => h.All(Uri.IsHexDigit))) continue; // not a header
            var path = f.Length >= 6 ? f[5] : "";
            if (path == binary) { afterBinary = true; continue; }
            if (!afterBinary) continue;
            Assert.True(path == "" && f[1] == "rw-p", $"no anonymous mapping after the binary's: {lines[i]}");
            for (var j = i + 1; j < lines.Length; j++)
                if (lines[j].StartsWith("VmFlags:")) return lines[j]["VmFlags:".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            break;
        }
        throw new InvalidOperationException($"the binary's data tail was not found in /proc/{pid}/smaps");
    }
}
