using Sandbox.Testing;

namespace Sandbox.E2E.Packaging;

/// <summary>
/// The bundle in a debootstrap minbase root with only the documented runtime packages
/// (tests/rootfs/check.sh): proves the dependency list in the README.
/// </summary>
public sealed class MinimalRootfsTests
{
    [SkippableFact]
    public void Bundle_runs_in_a_minbase_root_with_only_the_documented_packages()
    {
        Skip.IfNot(Environment.UserName == "root", "needs root (debootstrap, chroot, mounts)");
        var bundle = Directory.GetFiles(Path.Combine(Repo.Root, "out"), "sandbox-*-linux-x64.tar.gz").SingleOrDefault();
        Assert.True(bundle is not null, "out/sandbox-<version>-linux-x64.tar.gz is missing: run ./build-aot.sh");

        var (code, stdout, stderr) = Processes.Run("bash", [Path.Combine(Repo.Root, "tests", "rootfs", "check.sh"), bundle!],
            timeoutMs: 15 * 60_000);
        Assert.True(code == 0, $"rootfs check failed ({code}):\n{stdout}\n{stderr}");
        Assert.Contains("health: ok", stdout);
        Assert.Contains("identical to the scene", stdout);
        Assert.Contains("rootfs check: passed", stdout);
        // With the gateway built in, the kernel line must be a real execution.
        Assert.Contains("kernel: executed 6*7 -> 42", stdout);
    }
}
