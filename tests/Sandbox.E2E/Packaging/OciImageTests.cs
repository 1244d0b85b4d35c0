using Sandbox.Testing;
using Xunit.Abstractions;

namespace Sandbox.E2E.Packaging;

/// <summary>
/// The OCI image (packaging/oci/build-image.sh) under podman: runc, gVisor (runsc) and `podman kube play` of the
/// Pod generated from the SandboxTemplate. tests/oci/check.py does the checks from outside the container
/// (readiness 503 -> 200, the memory limit in /health, a screenshot, a kernel, a click seen by xdotool inside,
/// the /init token on both ports, a quick clean `podman stop` with a recording running). The debootstrap root is
/// cached in /var/cache/sandbox-test and the image is rebuilt only when its inputs change.
/// </summary>
[Collection("OCI image")]
public sealed class OciImageTests(ITestOutputHelper output)
{
    [SkippableFact]
    public void Runs_under_runc() => Check("runc");

    [SkippableFact]
    public void Runs_under_gVisor()
    {
        Skip.If(Which("runsc") is null, "gVisor's runsc is not installed (Debian: runsc)");
        Check("runsc");
    }

    [SkippableFact]
    public void Runs_as_the_pod_generated_from_the_SandboxTemplate_with_podman_kube_play()
    {
        Skip.If(Which("catatonit") is null && !File.Exists("/usr/libexec/podman/catatonit"), "podman kube play needs catatonit for its pause image");
        Check("kube");
    }

    [Fact]
    public void Kubernetes_manifests_validate_against_the_agent_sandbox_CRDs()
    {
        var (code, stdout, stderr) = Processes.Run("/usr/bin/python3", [Path.Combine(Repo.Root, "tests", "k8s", "validate.py")]);
        output.WriteLine(stdout);
        Assert.True(code == 0, $"{stdout}\n{stderr}");
        Assert.Contains("SandboxTemplate sandbox: valid", stdout);
        Assert.Contains("SandboxWarmPool sandbox-pool: valid", stdout);
        Assert.Contains("SandboxClaim agent-session-1: valid", stdout);
    }

    private void Check(string mode)
    {
        Skip.IfNot(Environment.UserName == "root", "needs root (debootstrap, buildah, rootful podman)");
        Skip.If(Which("podman") is null || Which("buildah") is null, "podman and buildah are not installed");
        BuildImage();
        var (code, stdout, stderr) = Processes.Run("/usr/bin/python3", [Path.Combine(Repo.Root, "tests", "oci", "check.py"), "--mode", mode],
            timeoutMs: 10 * 60_000);
        output.WriteLine(stdout);
        Assert.True(code == 0, $"{mode}: check failed ({code}):\n{stdout}\n{stderr}");
        Assert.Contains("result: passed", stdout);
        Assert.Contains("kernel: 42", stdout);
        Assert.Contains("memory_limit_bytes: 1073741824", stdout);
        Assert.Contains("exit_code: 0", stdout);
        Assert.Contains("processes_left: 0", stdout);
    }

    private static readonly Lock Gate = new();
    private static bool _built;

    private void BuildImage()
    {
        lock (Gate)
        {
            if (_built) return;
            var bundle = Directory.GetFiles(Path.Combine(Repo.Root, "out"), "sandbox-*-linux-x64.tar.gz").SingleOrDefault();
            Assert.True(bundle is not null, "out/sandbox-<version>-linux-x64.tar.gz is missing: run ./build-aot.sh");
            var (code, stdout, stderr) = Processes.Run("bash", [Path.Combine(Repo.Root, "packaging", "oci", "build-image.sh"), bundle!],
                timeoutMs: 20 * 60_000);
            output.WriteLine(stdout);
            Assert.True(code == 0, $"build-image.sh failed ({code}):\n{stdout}\n{stderr}");
            _built = true;
        }
    }

    private static string? Which(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists);
}

[CollectionDefinition("OCI image", DisableParallelization = true)]
public sealed class OciImageCollection;
