using System.Text;
using Sandbox.Native;

namespace Sandbox.Hosting;

/// <summary>
/// Keeps the access tokens out of reach of code the appliance runs (kernels, processes, whatever an agent
/// starts as the same user). Two holes are closed at start, after the options were read:
/// <list type="bullet">
/// <item>the process is made non-dumpable (<c>PR_SET_DUMPABLE 0</c>): its <c>/proc/PID/environ</c>, <c>mem</c>
/// and ptrace are then refused to other processes of the same (non-root) user;</item>
/// <item>the values in the original environment block are overwritten in place, so even root reading
/// <c>/proc/PID/environ</c> sees <c>SANDBOX_TOKEN=xxxx</c>, and they are removed from the managed environment,
/// so no child started with an inherited environment gets them.</item>
/// </list>
/// The token still lives in the appliance's memory (hashed: see AccessToken); a root process can read that.
/// </summary>
internal static class Secrets
{
    public static readonly string[] Names = ["SANDBOX_TOKEN", "KG_AUTH_TOKEN"];

    public static unsafe void Protect()
    {
        if (!OperatingSystem.IsLinux()) return;
        _ = Libc.prctl(Libc.PR_SET_DUMPABLE, 0, 0, 0, 0);
        foreach (var name in Names)
        {
            var bytes = Encoding.UTF8.GetBytes(name + "\0");
            fixed (byte* n = bytes)
            {
                var value = Libc.getenv(n);
                if (value is not null)
                    for (var p = value; *p != 0; p++) *p = (byte)'x';
            }
            Environment.SetEnvironmentVariable(name, null);
        }
    }
}
