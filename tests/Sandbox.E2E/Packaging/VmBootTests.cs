using Sandbox.Testing;

namespace Sandbox.E2E.Packaging;

/// <summary>
/// The appliance's VM image (packaging/vm/build-image.sh) boots under QEMU and serves: the unit reports
/// ready through sd_notify, /health is ok with the display connected, a screenshot decodes, a kernel
/// answers, and `systemctl stop` in the guest ends the unit within its timeout with no kernel left
/// (tests/vm/boot_check.py does the steps). The image in out/vm is reused while it is newer than the
/// bundle; the prepared root is cached in /var/cache/sandbox-vm, so only the first build downloads.
/// </summary>
public sealed class VmBootTests
{
    [SkippableFact]
    public void Image_boots_reports_ready_serves_and_stops_cleanly()
    {
        Skip.IfNot(Environment.UserName == "root", "needs root (debootstrap, chroot, mkfs.ext4 -d)");
        var bundle = Directory.GetFiles(Path.Combine(Repo.Root, "out"), "sandbox-*-linux-x64.tar.gz").SingleOrDefault();
        Assert.True(bundle is not null, "out/sandbox-<version>-linux-x64.tar.gz is missing: run ./build-aot.sh");

        var image = Path.Combine(Repo.Root, "out", "vm");
        var disk = Path.Combine(image, "disk.img");
        if (!File.Exists(disk) || File.GetLastWriteTimeUtc(disk) < File.GetLastWriteTimeUtc(bundle!)
            || !File.Exists(Path.Combine(image, "run.sh")))
        {
            var (bc, bo, be) = Processes.Run("bash", [Path.Combine(Repo.Root, "packaging", "vm", "build-image.sh"), "--bundle", bundle!],
                timeoutMs: 40 * 60_000);
            Assert.True(bc == 0, $"build-image.sh failed ({bc}):\n{bo}\n{be}");
        }

        var (code, stdout, stderr) = Processes.Run("/usr/bin/python3", [Path.Combine(Repo.Root, "tests", "vm", "boot_check.py"), image],
            timeoutMs: 30 * 60_000);
        Assert.True(code == 0, $"VM boot check failed ({code}):\n{stdout}\n{stderr}");
        Assert.Contains("unit: ready via sd_notify", stdout);
        Assert.Contains("health: ok, display :0 connected", stdout);
        Assert.Contains("screenshot: decoded PNG", stdout);
        Assert.Contains("kernel: executed 6*7 -> 42", stdout);
        Assert.Contains("stop: ended within its timeout with no kernel left", stdout);
        Assert.Contains("vm boot check: passed", stdout);
    }
}
