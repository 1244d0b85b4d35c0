using System.Text.Json;
using System.Net;
using System.Xml.Linq;
using Sandbox.E2E.Infrastructure;
using Sandbox.Testing;

namespace Sandbox.E2E.OsWorld;

/// <summary>/screenshot, /screen_size, /platform, /window_size, the window routes, /accessibility, /terminal,
/// the recording routes, and the port's security rules.</summary>
public sealed class OsWorldScreenTests(OsWorldFixture f) : IClassFixture<OsWorldFixture>
{
    [Fact]
    public void Screenshot_is_the_screen_as_png_with_the_cursor()
    {
        Processes.Check("xsetroot", ["-solid", "#2a6f97"], f.Env);
        f.Xdotool("mousemove", "1000", "600");
        // get_screenshot: GET, 10 s timeout, bytes validated by their PNG magic.
        using var client = new HttpClient { BaseAddress = f.Http.BaseAddress, Timeout = TimeSpan.FromSeconds(10) };
        using var r = client.GetAsync("/screenshot").Result;
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal("image/png", r.Content.Headers.ContentType?.MediaType);
        var bytes = r.Content.ReadAsByteArrayAsync().Result;
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], bytes[..4]);
        var image = Rgb.Decode(bytes);
        Assert.Equal((1280, 800), (image.Width, image.Height));
        // The root's colour away from any window, and the cursor's pixels drawn at the pointer.
        OsWorldFixture.WaitFor(() => Rgb.Decode(client.GetByteArrayAsync("/screenshot").Result).At(1270, 790) == (0x2a, 0x6f, 0x97), "the root colour in the screenshot");
        var around = Enumerable.Range(0, 12).SelectMany(dy => Enumerable.Range(0, 12).Select(dx => image.At(1000 + dx, 600 + dy)));
        Assert.Contains(around, p => p != (0x2a, 0x6f, 0x97));

        var size = OsWorldFixture.Json(f.Post("/screen_size"));
        Assert.Equal((1280, 800), (size.GetProperty("width").GetInt32(), size.GetProperty("height").GetInt32()));
        using var platform = f.Http.GetAsync("/platform").Result;
        Assert.Equal(("Linux", "text/html"), (OsWorldFixture.Body(platform), platform.Content.Headers.ContentType?.MediaType));
    }

    [Fact]
    public void Window_routes_act_on_the_real_windows_as_wmctrl_would()
    {
        f.Launch("xterm", "-T", "OsWorld Alpha", "-geometry", "40x10");
        f.Launch("xterm", "-T", "OsWorld Beta", "-geometry", "50x12");
        var alpha = f.WindowTitled("OsWorld Alpha");
        var beta = f.WindowTitled("OsWorld Beta");

        // get_vm_window_size: form app_class_name → the client size of a window of that WM_CLASS.
        // xdotool sees a window once it is mapped; the window manager lists it (EWMH) a moment later.
        OsWorldFixture.WaitFor(() => Processes.Run("wmctrl", ["-l"], f.Env).Stdout is var l && l.Contains("OsWorld Alpha") && l.Contains("OsWorld Beta"),
            "openbox to manage both windows");
        var size = OsWorldFixture.Json(f.PostForm("/window_size", new() { ["app_class_name"] = "XTerm" }));
        var geometries = new[] { alpha, beta }.Select(w => f.Xdotool("getwindowgeometry", w.ToString())).ToList();
        Assert.Contains(geometries, g => g.Contains($"Geometry: {size.GetProperty("width").GetInt32()}x{size.GetProperty("height").GetInt32()}"));
        using var noClass = f.PostForm("/window_size", new() { ["app_class_name"] = "no-such-class" });
        Assert.Equal(HttpStatusCode.NotFound, noClass.StatusCode);
        using var noField = f.PostForm("/window_size", new() { ["x"] = "y" });
        Assert.Equal(HttpStatusCode.BadRequest, noField.StatusCode);
        Assert.Equal("app_class_name is required", OsWorldFixture.Json(noField).GetProperty("error").GetString());

        using var activate = f.PostJson("/setup/activate_window", new { window_name = "osworld alpha", strict = false, by_class = false });
        Assert.Equal(("Window activated successfully", HttpStatusCode.OK), (OsWorldFixture.Body(activate), activate.StatusCode));
        OsWorldFixture.WaitFor(() => f.Xdotool("getactivewindow") == alpha.ToString(), "Alpha to be active");

        using var strictMiss = f.PostJson("/setup/activate_window", new { window_name = "osworld beta", strict = true });
        Assert.Equal(HttpStatusCode.NotFound, strictMiss.StatusCode);
        Assert.Equal("Window osworld beta not found (empty results)", OsWorldFixture.Body(strictMiss));
        using var byClass = f.PostJson("/setup/activate_window", new { window_name = "xterm.XTerm", strict = true, by_class = true });
        Assert.Equal(HttpStatusCode.OK, byClass.StatusCode);

        using var close = f.PostJson("/setup/close_window", new { window_name = "OsWorld Beta", strict = true, by_class = false });
        Assert.Equal(("Window closed successfully.", HttpStatusCode.OK), (OsWorldFixture.Body(close), close.StatusCode));
        OsWorldFixture.WaitFor(() => Processes.Run("xdotool", ["search", "--name", "^OsWorld Beta$"], f.Env).Stdout.Trim().Length == 0, "Beta to close");
        using var none = f.PostJson("/setup/close_window", new { strict = true });
        Assert.Equal(("window_name required", HttpStatusCode.BadRequest), (OsWorldFixture.Body(none), none.StatusCode));
    }

    [Fact]
    public void Accessibility_is_osworlds_xml_of_the_desktop()
    {
        f.Launch("gtk3-widget-factory");
        string xml = "";
        OsWorldFixture.WaitFor(() =>
        {
            using var r = f.Http.GetAsync("/accessibility").Result;
            xml = OsWorldFixture.Json(r).GetProperty("AT").GetString()!;
            return r.IsSuccessStatusCode && xml.Contains("name=\"gtk3-widget-factory\"");
        }, "gtk3-widget-factory in /accessibility");
        var doc = XDocument.Parse(xml);
        Assert.Equal("desktop-frame", doc.Root!.Name.LocalName);
        XNamespace st = "https://accessibility.ubuntu.example.org/ns/state", cp = "https://accessibility.ubuntu.example.org/ns/component";
        Assert.Equal(st.NamespaceName, doc.Root.GetNamespaceOfPrefix("st")?.NamespaceName);
        foreach (var prefix in new[] { "attr", "cp", "doc", "docattr", "txt", "val", "act" })
            Assert.Equal($"https://accessibility.ubuntu.example.org/ns/{(prefix switch { "attr" => "attributes", "cp" => "component", "doc" => "document", "docattr" => "document/attributes", "txt" => "text", "val" => "value", _ => "action" })}",
                doc.Root.GetNamespaceOfPrefix(prefix)?.NamespaceName);
        var app = doc.Root.Elements("application").Single(e => (string?)e.Attribute("name") == "gtk3-widget-factory");
        var frame = app.Elements("frame").First();
        Assert.Equal("true", (string?)frame.Attribute(st + "showing"));
        Assert.Matches(@"^\(\d+, \d+\)$", (string?)frame.Attribute(cp + "screencoord") ?? "");
        Assert.Contains(app.Descendants(), e => e.Name.LocalName == "push-button");
    }

    [Fact]
    public void Terminal_is_the_text_of_the_focused_terminal()
    {
        f.Launch("sakura", "-x", "sh -c 'echo OSWORLD-TERMINAL-MARK; exec sleep 600'");
        string? output = null;
        OsWorldFixture.WaitFor(() =>
        {
            var j = OsWorldFixture.Json(f.Http.GetAsync("/terminal").Result);
            Assert.Equal("success", j.GetProperty("status").GetString());
            output = j.GetProperty("output").GetString();
            return output?.Contains("OSWORLD-TERMINAL-MARK") == true;
        }, "the terminal's text in /terminal");
        Assert.Equal(output!.TrimEnd(), output);
    }

    [Fact]
    public void Recording_gives_a_playable_mp4_as_the_end_recordings_body()
    {
        using var start = f.Post("/start_recording");
        Assert.Equal(HttpStatusCode.OK, start.StatusCode);
        var s = OsWorldFixture.Json(start);
        Assert.Equal(("success", "Started recording successfully."), (s.GetProperty("status").GetString(), s.GetProperty("message").GetString()));
        using var again = f.Post("/start_recording");
        Assert.Equal(HttpStatusCode.BadRequest, again.StatusCode);
        Assert.Equal("Recording is already in progress.", OsWorldFixture.Json(again).GetProperty("message").GetString());
        for (var i = 0; i < 5; i++)
        {
            f.Xdotool("mousemove", (100 + i * 50).ToString(), "100");
            Thread.Sleep(300);
        }
        // A step the agent takes through OSWorld's routes while recording goes into the trajectory.
        using var step = f.PostJson("/execute", new { command = new[] { "xdotool", "mousemove", "400", "300" }, shell = false });
        Assert.Equal(0, OsWorldFixture.Json(step).GetProperty("returncode").GetInt32());
        using var end = f.Post("/end_recording");
        Assert.Equal(HttpStatusCode.OK, end.StatusCode);
        var trajectory = Directory.GetDirectories(Path.Combine(f.App.SharedDir, "recordings"), "trajectory-*").Single();
        var line = JsonDocument.Parse(File.ReadAllLines(Path.Combine(trajectory, "traj.jsonl")).Single()).RootElement;
        Assert.Equal("osworld", line.GetProperty("source").GetString());
        Assert.Equal(1, line.GetProperty("step_num").GetInt32());
        Assert.Contains("/execute", line.GetProperty("action").GetRawText());
        var png = File.ReadAllBytes(Path.Combine(trajectory, line.GetProperty("screenshot_file").GetString()!));
        Assert.Equal((1280, 800), (System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)), System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20))));
        Assert.Equal("video/mp4", end.Content.Headers.ContentType?.MediaType);
        Assert.Equal("attachment", end.Content.Headers.ContentDisposition?.DispositionType);
        var video = Path.Combine(f.Home, "recording.mp4");
        File.WriteAllBytes(video, end.Content.ReadAsByteArrayAsync().Result);
        var probe = Processes.Check("ffprobe", ["-v", "error", "-select_streams", "v:0", "-count_frames", "-show_entries", "stream=codec_type,width,height,nb_read_frames", "-of", "default=nw=1", video], f.Env, 120_000);
        Assert.Contains("codec_type=video", probe);
        Assert.Contains("width=1280", probe);
        Assert.True(int.Parse(probe.Split('\n').First(l => l.StartsWith("nb_read_frames=")).Split('=')[1]) > 0, probe);
        // A retry of end_recording (the controller retries) gets the same video again.
        using var retry = f.Post("/end_recording");
        Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
        Assert.Equal(File.ReadAllBytes(video), retry.Content.ReadAsByteArrayAsync().Result);
    }

    [Fact]
    public void The_port_refuses_foreign_origins_and_hosts_and_unknown_routes_answer_json_404()
    {
        using var origin = new HttpRequestMessage(HttpMethod.Post, "/execute") { Content = new StringContent("{\"command\":[\"true\"]}", System.Text.Encoding.UTF8, "application/json") };
        origin.Headers.Add("Origin", "http://evil.example");
        using var refused = f.Http.SendAsync(origin).Result;
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal("Forbidden", OsWorldFixture.Json(refused).GetProperty("reason").GetString());
        using var host = new HttpRequestMessage(HttpMethod.Get, "/platform");
        host.Headers.Host = "rebound.evil.example";
        Assert.Equal(HttpStatusCode.Forbidden, f.Http.SendAsync(host).Result.StatusCode);
        using var unknown = f.Http.GetAsync("/no-such-route").Result;
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("Not Found", OsWorldFixture.Json(unknown).GetProperty("reason").GetString());
        using var wrongMethod = f.Http.GetAsync("/execute").Result;
        Assert.Equal(HttpStatusCode.MethodNotAllowed, wrongMethod.StatusCode);
    }

    [Fact]
    public void A_taken_osworld_port_stops_the_start_with_a_message_naming_it()
    {
        using var taken = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;
        var e = Assert.Throws<InvalidOperationException>(() =>
            ApplianceProcess.Start(null, new Dictionary<string, string?> { ["SANDBOX_OSWORLD_PORT"] = port.ToString() }).Dispose());
        Assert.Contains("exited with 2", e.Message);
        Assert.Contains($"sandbox: SANDBOX_OSWORLD_PORT={port}:", e.Message);
    }

    [Fact]
    public void With_a_token_the_osworld_port_needs_it_too()
    {
        var port = Processes.FreeTcpPort();
        using var app = ApplianceProcess.Start(null, new Dictionary<string, string?> { ["SANDBOX_OSWORLD_PORT"] = port.ToString(), ["SANDBOX_TOKEN"] = "s3cret" });
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        using var denied = client.GetAsync("/platform").Result;
        Assert.Equal(HttpStatusCode.Unauthorized, denied.StatusCode);
        client.DefaultRequestHeaders.Add("Authorization", "token s3cret");
        Assert.Equal("Linux", client.GetStringAsync("/platform").Result);
    }
}
