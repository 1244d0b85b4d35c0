using System.Buffers.Binary;
using System.Text;
using Sandbox.E2E.Infrastructure;
using Sandbox.Testing;

namespace Sandbox.E2E.Hosting;

/// <summary>
/// Code layout (docs/performance.md, "Fourth round: code layout"): the binary's managed methods are laid out in
/// the order of native/code-order.txt, hot paths first, so the pages the kernel maps around what a screenshot runs
/// (fault-around, 64 KiB) hold code that runs. Asserted on the effect: after screenshots of both scenes and both
/// formats, less than two thirds of the managed code section is resident (in ILC's default order, ~80 %, because
/// the screenshot path's methods are spread over all of it). Failing after larger code changes means the order
/// file went stale: regenerate it with tools/code-layout/profile.py.
/// </summary>
public sealed class CodeLayoutTests
{
    private const int Page = 4096;

    [Fact]
    public async Task The_code_a_screenshot_runs_lies_together()
    {
        var (start, size) = Section(Repo.Binary, "__managedcode");
        using var x = XvfbServer.Start();
        using var app = ApplianceProcess.Start(x);
        await WaitReady(app);
        foreach (var scene in new[] { "office.png", "photo.png" })
        {
            x.Paint(Repo.Scene(scene));
            for (var i = 0; i < 5; i++)
            {
                await app.Http.GetByteArrayAsync("/screenshot?response=image");
                await app.Http.GetStringAsync("/screenshot");
                await app.Http.GetByteArrayAsync("/screenshot?response=image&format=jpeg");
            }
        }
        var resident = ResidentBytes(app.Pid, start, size);
        Assert.True(resident < size * 2 / 3,
            $"{resident / 1024} KiB of the {size / 1024} KiB of managed code resident after the screenshots " +
            "(the layout of native/code-order.txt did not take, or the file is stale: tools/code-layout/profile.py)");
        Assert.True(resident > 256 * 1024, $"only {resident / 1024} KiB of managed code resident: the measurement is off");
    }

    /// <summary>Waits for /readyz: the start-up release (after the gateway started) has dropped start-up's pages.</summary>
    private static async Task WaitReady(ApplianceProcess app)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            using (var r = await app.Http.GetAsync("/readyz"))
                if (r.IsSuccessStatusCode) break;
            await Task.Delay(50);
        }
        await Task.Delay(500);
    }

    /// <summary>A section's address and size, from the ELF64 section headers (the stripped binary keeps them).</summary>
    private static (long Address, long Size) Section(string elf, string name)
    {
        var b = File.ReadAllBytes(elf);
        var shoff = (int)BinaryPrimitives.ReadInt64LittleEndian(b.AsSpan(0x28));
        int entry = BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(0x3A)), count = BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(0x3C));
        int names = BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(0x3E));
        var strtab = (int)BinaryPrimitives.ReadInt64LittleEndian(b.AsSpan(shoff + names * entry + 0x18));
        for (var i = 0; i < count; i++)
        {
            var h = b.AsSpan(shoff + i * entry, entry);
            var at = strtab + BinaryPrimitives.ReadInt32LittleEndian(h);
            var end = Array.IndexOf(b, (byte)0, at);
            if (Encoding.ASCII.GetString(b, at, end - at) == name)
                return (BinaryPrimitives.ReadInt64LittleEndian(h[0x10..]), BinaryPrimitives.ReadInt64LittleEndian(h[0x20..]));
        }
        throw new InvalidOperationException($"{elf} has no {name} section");
    }

    /// <summary>Bytes of [start, start + size) of the process's executable resident, from its maps and pagemap.</summary>
    private static long ResidentBytes(int pid, long start, long size)
    {
        var exe = new FileInfo($"/proc/{pid}/exe").LinkTarget!;
        long? base_ = null;
        foreach (var line in File.ReadLines($"/proc/{pid}/maps"))
        {
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length < 6 || f[5] != exe) continue;
            base_ = Convert.ToInt64(f[0].Split('-')[0], 16) - Convert.ToInt64(f[2], 16);
            break;
        }
        Assert.True(base_.HasValue, $"no mapping of {exe} in /proc/{pid}/maps");
        var first = (base_!.Value + start) / Page;
        var pages = (int)((size + Page - 1) / Page);
        var entries = new byte[pages * 8];
        using (var pagemap = File.OpenRead($"/proc/{pid}/pagemap"))
        {
            pagemap.Seek(first * 8, SeekOrigin.Begin);
            pagemap.ReadExactly(entries);
        }
        long resident = 0;
        for (var i = 0; i < pages; i++)
            if ((BinaryPrimitives.ReadUInt64LittleEndian(entries.AsSpan(i * 8)) >> 63) != 0) resident += Page;
        return resident;
    }
}
