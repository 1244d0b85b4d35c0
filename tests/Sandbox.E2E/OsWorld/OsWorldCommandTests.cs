using System.Net;
using System.Text.Json;
using Sandbox.Testing;

namespace Sandbox.E2E.OsWorld;

/// <summary>/execute, /setup/execute, /execute_with_verification, /run_python, /run_bash_script, /setup/launch,
/// sent as OSWorld's PythonController and SetupController send them, checked on every field and on their effect.</summary>
public sealed class OsWorldCommandTests(OsWorldFixture f) : IClassFixture<OsWorldFixture>
{
    [Fact]
    public void Execute_runs_a_list_with_home_expansion_and_answers_status_output_error_returncode()
    {
        using var r = f.PostJson("/execute", new { command = new[] { "/bin/sh", "-c", "echo \"$1\"; echo warn >&2; exit 4", "sh", "~/inbox" }, shell = false });
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal("application/json", r.Content.Headers.ContentType?.MediaType);
        var j = OsWorldFixture.Json(r);
        Assert.Equal("success", j.GetProperty("status").GetString());
        Assert.Equal(f.Home + "/inbox\n", j.GetProperty("output").GetString());
        Assert.Equal("warn\n", j.GetProperty("error").GetString());
        Assert.Equal(4, j.GetProperty("returncode").GetInt32());
        Assert.Equal(4, j.EnumerateObject().Count());
    }

    [Fact]
    public void Execute_splits_a_string_as_shlex_and_runs_shell_commands_through_sh()
    {
        var split = OsWorldFixture.Json(f.PostJson("/setup/execute", new { command = "printf '%s|' 'a b' \"c \\\"d\\\"\" e\\ f" }));
        Assert.Equal("a b|c \"d\"|e f|", split.GetProperty("output").GetString());
        var shell = OsWorldFixture.Json(f.PostJson("/execute", new { command = "echo $((2+3)) >&2; exit 3", shell = true }));
        Assert.Equal(("", "5\n", 3), (shell.GetProperty("output").GetString(), shell.GetProperty("error").GetString(), shell.GetProperty("returncode").GetInt32()));
    }

    [Fact]
    public void Execute_of_a_missing_program_is_osworlds_500_and_bad_input_a_clear_400()
    {
        using var missing = f.PostJson("/execute", new { command = new[] { "no-such-program-osworld" }, shell = false });
        Assert.Equal(HttpStatusCode.InternalServerError, missing.StatusCode);
        var j = OsWorldFixture.Json(missing);
        Assert.Equal("error", j.GetProperty("status").GetString());
        Assert.Contains("no-such-program-osworld", j.GetProperty("message").GetString());

        foreach (var bad in new object[] { new { command = 42 }, new { command = new object[] { "ls", 1 } }, new { command = "'unclosed" } })
        {
            using var r = f.PostJson("/execute", bad);
            Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
            var e = OsWorldFixture.Json(r);
            Assert.Equal("Bad Request", e.GetProperty("reason").GetString());
            Assert.Contains("command", e.GetProperty("message").GetString());
        }
        using var notJson = f.Http.PostAsync("/execute", new StringContent("command=ls")).Result;
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, notJson.StatusCode);
    }

    [Fact]
    public void Pyautogui_commands_as_PythonController_sends_them_move_and_click_the_real_pointer()
    {
        // execute_python_command: ["python", "-c", "import pyautogui; import time; pyautogui.FAILSAFE = False; <command>"]
        // (python3 here: Debian has no `python`; pyautogui is the tests' python3-xlib stand-in).
        var prefix = "import pyautogui; import time; pyautogui.FAILSAFE = False; {0}";
        var r = f.PostJson("/execute", new { command = new[] { "/usr/bin/python3", "-c", string.Format(prefix, "pyautogui.moveTo(321, 234, 0.5)") }, shell = false });
        Assert.Equal(0, OsWorldFixture.Json(r).GetProperty("returncode").GetInt32());
        Assert.Contains("x:321 y:234", f.Xdotool("getmouselocation"));
        var pos = OsWorldFixture.Json(f.Http.GetAsync("/cursor_position").Result);
        Assert.Equal(JsonValueKind.Array, pos.ValueKind);
        Assert.Equal([321, 234], pos.EnumerateArray().Select(e => e.GetInt32()).ToArray());

        // A plain shell command (xdotool) through /execute moves it too, and the screenshot shows the cursor there.
        f.PostJson("/execute", new { command = "xdotool mousemove 700 500", shell = true }).Dispose();
        Assert.Contains("x:700 y:500", f.Xdotool("getmouselocation"));
    }

    [Fact]
    public void Pyautogui_click_focuses_a_window_and_typewrite_types_into_it()
    {
        f.Launch("xterm", "-T", "Typing-Target", "-geometry", "60x10+80+80");
        f.Launch("xterm", "-T", "Typing-Other", "-geometry", "60x10+700+400");
        var target = f.WindowTitled("Typing-Target");
        var other = f.WindowTitled("Typing-Other");
        OsWorldFixture.WaitFor(() => Processes.Run("wmctrl", ["-l"], f.Env).Stdout is var l && l.Contains("Typing-Target") && l.Contains("Typing-Other"), "openbox to manage both windows");
        f.Xdotool("windowactivate", "--sync", other.ToString());
        var geometry = f.Xdotool("getwindowgeometry", target.ToString());
        // "Window N / Position: X,Y (screen: 0) / Geometry: WxH"
        var position = geometry.Split('\n').First(l => l.Contains("Position:")).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1].Split(',');
        int x = int.Parse(position[0]) + 60, y = int.Parse(position[1]) + 40;

        string Py(string command) => $"import pyautogui; import time; pyautogui.FAILSAFE = False; {command}";
        using (var click = f.PostJson("/execute", new { command = new[] { "/usr/bin/python3", "-c", Py($"pyautogui.click(button='left', x={x}, y={y})") }, shell = false }))
            Assert.Equal(0, OsWorldFixture.Json(click).GetProperty("returncode").GetInt32());
        OsWorldFixture.WaitFor(() => f.Xdotool("getactivewindow") == target.ToString(), "the clicked window to take the focus");

        var marker = Path.Combine(f.Home, "typedfile");
        using (var type = f.PostJson("/execute", new { command = new[] { "/usr/bin/python3", "-c", Py("pyautogui.typewrite('cd\\ntouch typedfile\\n')") }, shell = false }))
            Assert.Equal(0, OsWorldFixture.Json(type).GetProperty("returncode").GetInt32());
        OsWorldFixture.WaitFor(() => File.Exists(marker), "the typed command to create ~/typedfile");
    }

    [Fact]
    public void Execute_with_verification_waits_for_the_window_and_reports_failure_with_500()
    {
        using var ok = f.PostJson("/setup/execute_with_verification", new
        {
            command = "xterm -T Verified-Window-1 >/dev/null 2>&1 &", shell = true,
            verification = new { window_exists = "verified-window-1" }, max_wait_time = 60, check_interval = 0.2,
        });
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        var j = OsWorldFixture.Json(ok);
        Assert.Equal(("success", "passed", 0), (j.GetProperty("status").GetString(), j.GetProperty("verification").GetString(), j.GetProperty("returncode").GetInt32()));
        Assert.True(j.GetProperty("wait_time").GetDouble() >= 0);
        Assert.NotEmpty(f.Xdotool("search", "--name", "Verified-Window-1"));

        using var failed = f.PostJson("/execute_with_verification", new
        {
            command = new[] { "true" }, verification = new { command_success = "test -e /nonexistent-osworld" }, max_wait_time = 1, check_interval = 0.2,
        });
        Assert.Equal(HttpStatusCode.InternalServerError, failed.StatusCode);
        var fj = OsWorldFixture.Json(failed);
        Assert.Equal(("verification_failed", "failed", 1.0), (fj.GetProperty("status").GetString(), fj.GetProperty("verification").GetString(), fj.GetProperty("wait_time").GetDouble()));
    }

    [Fact]
    public void Run_python_answers_osworlds_fields()
    {
        var j = OsWorldFixture.Json(f.PostJson("/run_python", new { code = "import sys\nprint('out')\nprint('err', file=sys.stderr)\n" }));
        Assert.Equal("success", j.GetProperty("status").GetString());
        Assert.Equal("out\n", j.GetProperty("output").GetString());
        Assert.Equal("err\n", j.GetProperty("error").GetString());
        Assert.Equal("out\n\nerr\n", j.GetProperty("message").GetString());
        Assert.False(j.GetProperty("need_more").GetBoolean());
        Assert.Equal(0, j.GetProperty("return_code").GetInt32());

        var failed = OsWorldFixture.Json(f.PostJson("/run_python", new { code = "raise SystemExit(3)" }));
        Assert.Equal(("error", "Process exited with code 3", 3), (failed.GetProperty("status").GetString(), failed.GetProperty("error").GetString(), failed.GetProperty("return_code").GetInt32()));

        using var none = f.PostJson("/run_python", new { code = "" });
        Assert.Equal(HttpStatusCode.BadRequest, none.StatusCode);
        Assert.Equal("Code not supplied!", OsWorldFixture.Json(none).GetProperty("message").GetString());
    }

    [Fact]
    public void Run_bash_script_merges_stderr_runs_in_working_dir_and_times_out()
    {
        Directory.CreateDirectory(Path.Combine(f.Home, "work"));
        var j = OsWorldFixture.Json(f.PostJson("/run_bash_script", new { script = "echo one\necho two >&2\npwd\necho ${BASH_VERSION:+bash}", timeout = 30, working_dir = "~/work" }));
        Assert.Equal(("success", $"one\ntwo\n{f.Home}/work\nbash\n", "", 0),
            (j.GetProperty("status").GetString(), j.GetProperty("output").GetString(), j.GetProperty("error").GetString(), j.GetProperty("returncode").GetInt32()));

        var failed = OsWorldFixture.Json(f.PostJson("/run_bash_script", new { script = "exit 7", timeout = 30, working_dir = (string?)null }));
        Assert.Equal(("error", 7), (failed.GetProperty("status").GetString(), failed.GetProperty("returncode").GetInt32()));

        using var slow = f.PostJson("/run_bash_script", new { script = "sleep 30", timeout = 1, working_dir = (string?)null });
        Assert.Equal(HttpStatusCode.InternalServerError, slow.StatusCode);
        Assert.Equal("Script execution timed out after 1 seconds", OsWorldFixture.Json(slow).GetProperty("output").GetString());

        using var nodir = f.PostJson("/run_bash_script", new { script = "true", timeout = 30, working_dir = "~/no-such-dir" });
        Assert.Equal(HttpStatusCode.BadRequest, nodir.StatusCode);
        var n = OsWorldFixture.Json(nodir);
        Assert.Equal(($"Working directory does not exist: {f.Home}/no-such-dir", -1), (n.GetProperty("output").GetString(), n.GetProperty("returncode").GetInt32()));
    }

    [Fact]
    public void Setup_launch_starts_the_program_detached_and_answers_in_plain_text()
    {
        using var r = f.PostJson("/setup/launch", new { command = new[] { "xterm", "-T", "Launched-By-OSWorld" }, shell = false });
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal("text/html", r.Content.Headers.ContentType?.MediaType);
        Assert.Equal("xterm -T Launched-By-OSWorld launched successfully", OsWorldFixture.Body(r));
        Assert.NotEmpty(Processes.Check("xdotool", ["search", "--sync", "--name", "Launched-By-OSWorld"], f.Env, 60_000).Trim());

        using var missing = f.PostJson("/setup/launch", new { command = "no-such-program-osworld --flag", shell = false });
        Assert.Equal(HttpStatusCode.InternalServerError, missing.StatusCode);
        Assert.Equal("error", OsWorldFixture.Json(missing).GetProperty("status").GetString());
    }
}
