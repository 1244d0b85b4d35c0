using System.Net;
using System.Text.Json;
using Sandbox.E2E.Infrastructure;
using Sandbox.Testing;
using Xunit.Abstractions;

namespace Sandbox.E2E.Reliability;

/// <summary>
/// Faults a VM really has: SHARED_DIR full or remounted read-only under a running appliance (a small tmpfs,
/// so root is needed), and the appliance SIGKILLed and started again. Answers stay JSON (507/503, never 500),
/// the same process recovers when the fault goes, and a killed process leaves no shared-memory segment.
/// </summary>
[Collection("Reliability")]
public sealed class FaultTests(ITestOutputHelper output)
{
    [SkippableFact]
    public async Task A_full_SHARED_DIR_gives_507_JSON_and_screenshots_resume_when_space_returns()
    {
        using var mount = SmallTmpfs.Mount();
        using var x = XvfbServer.Start(640, 480);
        x.Paint(Repo.Scene("photo.png"));
        using var app = ApplianceProcess.Start(x, sharedDir: mount.Path);
        await app.GetJsonAsync("/screenshot");
        var filler = mount.Fill();
        var faults = 0;

        using (var r = await app.Http.GetAsync("/screenshot"))
        {
            var body = await r.Content.ReadAsStringAsync();
            Assert.True(r.StatusCode == HttpStatusCode.InsufficientStorage, $"{(int)r.StatusCode} {body}");
            Assert.Equal("Insufficient Storage", JsonDocument.Parse(body).RootElement.GetProperty("reason").GetString());
            faults++;
        }
        foreach (var path in new[] { "/record?mode=start&video=false", "/record?mode=stop", "/screenshot?format=jpeg" })
        {
            using var r = await app.Http.GetAsync(path);
            AssertAnswered(r.StatusCode, await r.Content.ReadAsStringAsync(), path);
            faults++;
        }
        using (var r = await app.Http.PostAsync("/computer/action",
                   new StringContent("""{"action":"screenshot"}""", System.Text.Encoding.UTF8, "application/json")))
        {
            AssertAnswered(r.StatusCode, await r.Content.ReadAsStringAsync(), "POST /computer/action screenshot");
            faults++;
        }
        // Nothing on disk is needed for these.
        using (var r = await app.Http.GetAsync("/screenshot?response=image")) Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await app.Http.GetAsync("/health")).StatusCode);

        File.Delete(filler);
        var json = await app.GetJsonAsync("/screenshot");
        Assert.True(File.Exists(Path.Combine(app.SharedDir, json.GetProperty("screenshot_path").GetString()!)));
        Assert.Empty(Directory.GetFiles(Path.Combine(app.SharedDir, "screenshots"), "*.tmp"));
        Assert.False(app.HasExited);
        Assert.DoesNotContain("Internal Server Error", app.Output);
        Figures.Report(output, $"faults(disk full): {faults} requests on a full SHARED_DIR answered 507/503 JSON, 0 server errors, recovered in the same process, 0 partial files left");
    }

    [SkippableFact]
    public async Task A_read_only_SHARED_DIR_gives_JSON_errors_and_the_same_process_recovers()
    {
        // The appliance keeps its gateway log open for writing in SHARED_DIR, and a filesystem with a file open
        // for writing cannot be remounted read-only: the read-only filesystem is SHARED_DIR/screenshots.
        var shared = Directory.CreateTempSubdirectory("sandbox-e2e-ro-").FullName;
        using var cleanup = new DeleteOnDispose(shared);
        using var mount = SmallTmpfs.Mount(size: "16m", at: Path.Combine(shared, "screenshots"));
        using var x = XvfbServer.Start(640, 480);
        using var app = ApplianceProcess.Start(x, sharedDir: shared);
        await app.GetJsonAsync("/screenshot");
        mount.Remount("ro");
        var faults = 0;
        foreach (var path in new[] { "/screenshot", "/screenshot?format=jpeg", "/screenshot?method=pyautogui" })
        {
            using var r = await app.Http.GetAsync(path);
            var body = await r.Content.ReadAsStringAsync();
            AssertAnswered(r.StatusCode, body, path);
            if (path.StartsWith("/screenshot", StringComparison.Ordinal))
                Assert.True(r.StatusCode is HttpStatusCode.ServiceUnavailable or HttpStatusCode.InsufficientStorage, $"{path}: {(int)r.StatusCode} {body}");
            faults++;
        }
        using (var r = await app.Http.PostAsync("/computer/action",
                   new StringContent("""{"action":"screenshot"}""", System.Text.Encoding.UTF8, "application/json")))
        {
            AssertAnswered(r.StatusCode, await r.Content.ReadAsStringAsync(), "POST /computer/action screenshot");
            faults++;
        }
        using (var r = await app.Http.GetAsync("/screenshot?response=image")) Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        mount.Remount("rw");
        var json = await app.GetJsonAsync("/screenshot");
        Assert.True(File.Exists(Path.Combine(app.SharedDir, json.GetProperty("screenshot_path").GetString()!)));
        Assert.False(app.HasExited);
        Figures.Report(output, $"faults(read-only): {faults} requests on a read-only SHARED_DIR answered with JSON errors, 0 server errors, recovered after remount rw");
    }

    [Fact]
    public async Task SIGKILLed_and_restarted_the_appliance_leaves_no_shared_memory_behind()
    {
        using var x = XvfbServer.Start(640, 480);
        var shared = Directory.CreateTempSubdirectory("sandbox-e2e-kill-").FullName;
        const int rounds = 3;
        var leaked = 0;
        try
        {
            for (var i = 0; i < rounds; i++)
            {
                using var app = ApplianceProcess.Start(x, sharedDir: shared);
                await app.GetJsonAsync("/screenshot");
                var pid = app.Pid;
                Assert.NotEmpty(ShmSegment.CreatedBy(pid));
                app.Kill();
                var left = ShmSegment.WaitGone(pid);
                leaked += left.Count;
                Assert.True(left.Count == 0, $"round {i}: {left.Count} segment(s) of the killed pid {pid} remain");
            }
            using (var last = ApplianceProcess.Start(x, sharedDir: shared))
            {
                var json = await last.GetJsonAsync("/screenshot");
                Assert.True(File.Exists(Path.Combine(shared, json.GetProperty("screenshot_path").GetString()!)));
            }
        }
        finally
        {
            Directory.Delete(shared, recursive: true);
        }
        Figures.Report(output, $"faults(SIGKILL): {rounds} kills survived, restarted on the same SHARED_DIR, {leaked} shared-memory segments left");
    }

    private static void AssertAnswered(HttpStatusCode status, string body, string what)
    {
        Assert.True((int)status < 500 || status is HttpStatusCode.ServiceUnavailable or HttpStatusCode.InsufficientStorage,
            $"{what}: {(int)status} {body}");
        JsonDocument.Parse(body);  // a JSON answer, whatever it says
    }

    private sealed class DeleteOnDispose(string dir) : IDisposable
    {
        public void Dispose()
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }

    /// <summary>A tmpfs of a few MB to fill or remount read-only; unmounted (lazily) and removed on dispose.</summary>
    private sealed class SmallTmpfs : IDisposable
    {
        private SmallTmpfs(string path) => Path = path;

        public string Path { get; }

        public static SmallTmpfs Mount(string size = "4m", string? at = null)
        {
            Skip.IfNot(Environment.UserName == "root", "needs root to mount a tmpfs");
            var dir = at ?? Directory.CreateTempSubdirectory("sandbox-e2e-tmpfs-").FullName;
            Directory.CreateDirectory(dir);
            var (code, _, err) = Processes.Run("mount", ["-t", "tmpfs", "-o", $"size={size},mode=0700", "tmpfs", dir]);
            if (code != 0)
            {
                Directory.Delete(dir);
                Skip.If(true, $"cannot mount a tmpfs here: {err}");
            }
            return new SmallTmpfs(dir);
        }

        public void Remount(string how) =>
            Processes.Check("mount", ["-o", $"remount,{how}", Path]);

        /// <summary>Writes a file until the filesystem is full; returns its path.</summary>
        public string Fill()
        {
            var file = System.IO.Path.Combine(Path, "filler");
            var block = new byte[4096];
            Random.Shared.NextBytes(block);
            try
            {
                using var f = new FileStream(file, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
                while (true) f.Write(block);
            }
            catch (IOException) { }
            return file;
        }

        public void Dispose()
        {
            Processes.Run("umount", ["-l", Path]);
            try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
        }
    }
}
