using Sandbox.Fleet;

namespace Sandbox.Tests.Fleet;

public sealed class ContainerLimitsTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("cgroup-").FullName;

    public void Dispose() => Directory.Delete(_root, true);

    private void Write(string relative, string text)
    {
        var path = Path.Combine(_root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text + "\n");
    }

    [Fact]
    public void V2_takes_the_tightest_limit_from_the_own_cgroup_up_to_the_root()
    {
        Write("cgroup.controllers", "cpu memory");
        Write("kubepods/cpu.max", "max 100000");
        Write("kubepods/memory.max", "1073741824");
        Write("kubepods/pod1/cpu.max", "150000 100000");
        Write("kubepods/pod1/memory.max", "max");
        var c = ContainerLimits.Read(_root, ["0::/kubepods/pod1"]);
        Assert.Equal(2, c.CgroupVersion);
        Assert.Equal(1.5, c.CpuLimit);
        Assert.Equal(1L << 30, c.MemoryLimitBytes);
        Assert.Equal((int)(((1L << 30) - ContainerLimits.BaseBytes) / ContainerLimits.KernelBytes), c.KernelPoolCap);
    }

    [Fact]
    public void V1_reads_cfs_quota_and_memory_limit_and_treats_the_huge_default_as_unlimited()
    {
        Write("cpu/cpu.cfs_quota_us", "-1");
        Write("cpu/cpu.cfs_period_us", "100000");
        Write("cpu/docker/abc/cpu.cfs_quota_us", "50000");
        Write("cpu/docker/abc/cpu.cfs_period_us", "100000");
        Write("memory/memory.limit_in_bytes", "9223372036854771712");
        Write("memory/docker/abc/memory.limit_in_bytes", "268435456");
        var c = ContainerLimits.Read(_root, ["5:cpu,cpuacct:/docker/abc", "3:memory:/docker/abc"]);
        Assert.Equal(1, c.CgroupVersion);
        Assert.Equal(0.5, c.CpuLimit);
        Assert.Equal(256L << 20, c.MemoryLimitBytes);
        Assert.Equal(0, c.KernelPoolCap);

        var unlimited = ContainerLimits.Read(_root, ["5:cpu,cpuacct:/", "3:memory:/"]);
        Assert.Null(unlimited.CpuLimit);
        Assert.Null(unlimited.MemoryLimitBytes);
        Assert.Equal(64, unlimited.KernelPoolCap);
    }

    [Fact]
    public void Without_a_cgroup_file_system_the_limit_is_MemTotal_as_gVisor_sizes_it()
    {
        var meminfo = Path.Combine(_root, "meminfo");
        File.WriteAllText(meminfo, "MemTotal:        1048576 kB\nMemFree:         1045764 kB\n");
        var c = ContainerLimits.Read(Path.Combine(_root, "absent"), [], meminfo);
        Assert.Equal(1L << 30, c.MemoryLimitBytes);
        Assert.Equal("meminfo", c.MemorySource);
    }

    [Theory]
    [InlineData("max 100000", null)]
    [InlineData("200000 100000", 2.0)]
    [InlineData("garbage", null)]
    [InlineData(null, null)]
    public void Cpu_max_parses(string? text, double? expected) => Assert.Equal(expected, ContainerLimits.ParseCpuMax(text));
}
