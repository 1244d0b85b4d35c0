// Drives the appliance's /mcp with the official MCP TypeScript SDK client over Streamable HTTP.
//   node client.mjs <base-url> <out-dir> [--token T] step...
// Prints one JSON line {"protocol", "steps": {step: result | {"error"}}}; images it receives are written to <out-dir>.
// Run by tests/Sandbox.E2E/Mcp (which checks pixels, the pointer and the files) and by tests/bench/mcp_bench.py.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

const args = process.argv.slice(2);
const base = args.shift();
const out = args.shift();
let token = null;
const steps = [];
while (args.length) {
  const a = args.shift();
  if (a === "--token") token = args.shift();
  else steps.push(a);
}

const headers = token ? { Authorization: `Bearer ${token}` } : {};
const connect = async () => {
  const client = new Client({ name: "sandbox-e2e", version: "1.0.0" });
  const transport = new StreamableHTTPClientTransport(new URL("/mcp", base), { requestInit: { headers } });
  await client.connect(transport);
  return { client, transport };
};

const { client, transport } = await connect();
const result = { protocol: transport.protocolVersion, session: transport.sessionId, steps: {} };
const text = (r) => r.content.filter((c) => c.type === "text").map((c) => c.text).join("\n");
const images = (r) => r.content.filter((c) => c.type === "image");
const save = (name, img) => { writeFileSync(join(out, name), Buffer.from(img.data, "base64")); return name; };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const run = {
  async tools() {
    const { tools } = await client.listTools();
    return tools.map((t) => ({ name: t.name, annotations: t.annotations, schema: t.inputSchema }));
  },
  async screenshot() {
    const r = await client.callTool({ name: "screenshot", arguments: { cursor: false } });
    const [img] = images(r);
    return { isError: !!r.isError, mime: img?.mimeType, file: img && save("screenshot.png", img), text: text(r) };
  },
  async screenshot_scaled() {
    const r = await client.callTool({ name: "screenshot", arguments: { format: "jpeg", region: [100, 50, 800, 600], max_width: 400, cursor: false } });
    const [img] = images(r);
    return { isError: !!r.isError, mime: img?.mimeType, file: img && save("scaled.jpg", img), text: text(r) };
  },
  async click() {
    const r = await client.callTool({ name: "computer", arguments: { action: "left_click", coordinate: [613, 427] } });
    return { isError: !!r.isError, text: text(r) };
  },
  async batch() {
    const r = await client.callTool({ name: "computer", arguments: {
      actions: [{ action: "mouse_move", coordinate: [250, 260] }, { action: "cursor_position" }], screenshot_after: true } });
    return { isError: !!r.isError, text: text(r), images: images(r).map((i) => i.mimeType) };
  },
  async bad_arguments() {
    const calls = {
      unknown_action: { name: "computer", arguments: { action: "fly", coordinate: [1, 2] } },
      off_screen: { name: "computer", arguments: { action: "left_click", coordinate: [99999, 5] } },
      wrong_type: { name: "computer", arguments: { action: "type", text: 5 } },
      bad_quality: { name: "screenshot", arguments: { quality: 500 } },
      unknown_argument: { name: "screenshot", arguments: { nonsense: 1 } },
      bad_region: { name: "screenshot", arguments: { region: "a,b" } },
      python_no_code: { name: "run_python", arguments: {} },
      python_wrong_type: { name: "run_python", arguments: { code: ["x"] } },
    };
    const answers = {};
    for (const [k, c] of Object.entries(calls)) {
      const r = await client.callTool(c);
      answers[k] = { isError: !!r.isError, text: text(r) };
    }
    try {
      await client.callTool({ name: "no_such_tool", arguments: {} });
      answers.unknown_tool = { error: null };
    } catch (e) {
      answers.unknown_tool = { code: e.code, message: e.message };
    }
    return answers;
  },
  async python() {
    const first = await client.callTool({ name: "run_python", arguments: { code: "x = 41\nprint('set')" } });
    const second = await client.callTool({ name: "run_python", arguments: { code: "print(x + 1)\nx + 100" } });
    const png = await client.callTool({ name: "run_python", arguments: { code:
      "from PIL import Image as P\nimport io\nfrom IPython.display import Image, display\n" +
      "im = P.new('RGB', (64, 32), (10, 200, 30))\nb = io.BytesIO(); im.save(b, 'PNG')\ndisplay(Image(data=b.getvalue()))" } });
    const error = await client.callTool({ name: "run_python", arguments: { code: "1/0" } });
    const stderr = await client.callTool({ name: "run_python", arguments: { code: "import sys; print('out'); print('err', file=sys.stderr)" } });
    const [img] = images(png);
    return {
      first: text(first), second: text(second), secondIsError: !!second.isError,
      png: { isError: !!png.isError, mime: img?.mimeType, file: img && save("python.png", img), text: text(png) },
      error: { isError: !!error.isError, text: text(error) },
      stderr: text(stderr),
    };
  },
  async progress() {
    const seen = [];
    const r = await client.callTool({ name: "run_python", arguments: { code: "import time\nfor i in range(3):\n    print('tick', i, flush=True)\n    time.sleep(0.2)" } },
      undefined, { onprogress: (p) => seen.push(p) });
    return { text: text(r), notifications: seen.length, messages: seen.map((p) => p.message) };
  },
  async cancel() {
    const controller = new AbortController();
    let started = false;
    const t0 = Date.now();
    const call = client.callTool({ name: "run_python", arguments: { code: "import time\ny = 7\nprint('sleeping', flush=True)\ntime.sleep(60)\ny = 8" } },
      undefined, { signal: controller.signal, onprogress: () => { started = true; } });
    const outcome = call.then(() => "completed", (e) => "rejected: " + e.message);
    for (let i = 0; i < 600 && !started; i++) await sleep(50);
    controller.abort("test cancels");
    const how = await outcome;
    const after = await client.callTool({ name: "run_python", arguments: { code: "print('after', y)" } }, undefined, { timeout: 30000 });
    return { started, outcome: how, after: text(after), afterIsError: !!after.isError, seconds: (Date.now() - t0) / 1000 };
  },
  async resources() {
    const { resources } = await client.listResources();
    const { resourceTemplates } = await client.listResourceTemplates();
    const screen = await client.readResource({ uri: "screen://current" });
    const c = screen.contents[0];
    writeFileSync(join(out, "resource.png"), Buffer.from(c.blob, "base64"));
    const recording = resources.find((r) => r.uri.startsWith("recording://actions-"));
    let recordingText = null;
    if (recording) recordingText = (await client.readResource({ uri: recording.uri })).contents[0].text;
    let missing;
    try { await client.readResource({ uri: "recording://../../etc/passwd" }); missing = null; } catch (e) { missing = { code: e.code, message: e.message }; }
    return { uris: resources.map((r) => r.uri), templates: resourceTemplates.map((t) => t.uriTemplate), screenMime: c.mimeType,
      screenFile: "resource.png", recording: recording?.uri ?? null, recordingText, missing };
  },
  async command() {
    const ok = await client.callTool({ name: "run_command", arguments: { command: "echo hello from sh; echo oops >&2; exit 3" } });
    const argv = await client.callTool({ name: "run_command", arguments: { argv: ["printf", "%s|", "a b", "c"] } });
    const seen = [];
    const slow = await client.callTool({ name: "run_command", arguments: { command: "sleep 1.5; echo done" } },
      undefined, { onprogress: (p) => seen.push(p) });
    const bad = await client.callTool({ name: "run_command", arguments: { timeout_s: "x" } });
    const missing = await client.callTool({ name: "run_command", arguments: {} });
    return { ok: { isError: !!ok.isError, text: text(ok) }, argv: { isError: !!argv.isError, text: text(argv) },
      slow: { text: text(slow), notifications: seen.length }, bad: { isError: !!bad.isError, text: text(bad) },
      missing: { isError: !!missing.isError, text: text(missing) } };
  },
  async command_cancel() {
    // The shell and its background sleep write their pids; the test checks both are gone after the cancel.
    const dir = join(out, "cancel");
    const controller = new AbortController();
    let started = false;
    const call = client.callTool({ name: "run_command", arguments: {
      command: `mkdir -p '${dir}'; echo $$ > '${dir}/shell.pid'; sleep 60 & echo $! > '${dir}/child.pid'; wait` } },
      undefined, { signal: controller.signal, onprogress: () => { started = true; } });
    const outcome = call.then(() => "completed", (e) => "rejected: " + e.message);
    for (let i = 0; i < 600 && !started; i++) await sleep(50);
    controller.abort("test cancels");
    const how = await outcome;
    const after = await client.callTool({ name: "run_command", arguments: { argv: ["echo", "after"] } }, undefined, { timeout: 30000 });
    return { dir, started, outcome: how, after: text(after) };
  },
  async files() {
    const dir = join(out, "files");
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const writeText = await client.callTool({ name: "write_file", arguments: { path: join(dir, "note.txt"), content: "héllo\nwörld\n", mkdirs: true } });
    const readText = await client.callTool({ name: "read_file", arguments: { path: join(dir, "note.txt") } });
    const writeBin = await client.callTool({ name: "write_file", arguments: { path: join(dir, "bytes.bin"), content: bytes.toString("base64"), encoding: "base64" } });
    const readB64 = await client.callTool({ name: "read_file", arguments: { path: join(dir, "bytes.bin"), encoding: "base64" } });
    const readBlob = await client.callTool({ name: "read_file", arguments: { path: join(dir, "bytes.bin") } });
    const blob = readBlob.content.find((c) => c.type === "resource");
    const list = await client.callTool({ name: "list_directory", arguments: { path: dir } });
    const missing = await client.callTool({ name: "read_file", arguments: { path: join(dir, "absent.txt") } });
    const noDir = await client.callTool({ name: "write_file", arguments: { path: join(dir, "no", "such", "x.txt"), content: "x" } });
    const device = await client.callTool({ name: "read_file", arguments: { path: "/dev/zero" } });
    return {
      dir, writeText: { isError: !!writeText.isError, text: text(writeText) },
      readText: { isError: !!readText.isError, text: text(readText) },
      writeBin: { isError: !!writeBin.isError, text: text(writeBin) },
      readB64: { isError: !!readB64.isError, text: text(readB64) },
      readBlob: { isError: !!readBlob.isError, uri: blob?.resource?.uri ?? null, blob: blob?.resource?.blob ?? null },
      list: { isError: !!list.isError, text: text(list) },
      missing: { isError: !!missing.isError, text: text(missing) },
      noDir: { isError: !!noDir.isError, text: text(noDir) },
      device: { isError: !!device.isError, text: text(device) },
    };
  },
  async a11y() {
    const tree = await client.callTool({ name: "accessibility_tree", arguments: { max_depth: 3 } });
    const find = await client.callTool({ name: "find_elements", arguments: { role: "push button" } });
    const bad = await client.callTool({ name: "accessibility_tree", arguments: { window: "sideways" } });
    return { tree: { isError: !!tree.isError, text: text(tree) }, find: { isError: !!find.isError, text: text(find) },
      bad: { isError: !!bad.isError, text: text(bad) } };
  },
  async desktop() {
    const set = await client.callTool({ name: "clipboard_set", arguments: { text: "Grüße, 世界 — ñ" } });
    const get = await client.callTool({ name: "clipboard_get", arguments: {} });
    const windows = await client.callTool({ name: "list_windows", arguments: {} });
    const settled = await client.callTool({ name: "wait", arguments: { until: "screen_settled", quiet_ms: 100, timeout_ms: 10000 } });
    const badWait = await client.callTool({ name: "wait", arguments: { until: "never" } });
    const noWindow = await client.callTool({ name: "activate_window", arguments: { id: "0x7ffffff0" } });
    const r = (x) => ({ isError: !!x.isError, text: text(x) });
    return { set: r(set), get: r(get), windows: r(windows), settled: r(settled), badWait: r(badWait), noWindow: r(noWindow) };
  },
  async ping() {
    return await client.ping();
  },
  async terminate() {
    const second = await connect();
    await second.client.callTool({ name: "run_python", arguments: { code: "z = 1" } });
    const id = second.transport.sessionId;
    await second.transport.terminateSession();
    const r = await fetch(new URL("/mcp", base), { method: "POST", headers: { ...headers, "Content-Type": "application/json",
      Accept: "application/json, text/event-stream", "Mcp-Session-Id": id, "MCP-Protocol-Version": second.transport.protocolVersion },
      body: JSON.stringify({ jsonrpc: "2.0", id: 9, method: "tools/list" }) });
    return { status: r.status, session: id };
  },
};

for (const s of steps) {
  try {
    result.steps[s] = await run[s]();
  } catch (e) {
    result.steps[s] = { error: `${e.name}: ${e.message}` };
  }
}
await transport.terminateSession().catch(() => {});
await client.close();
console.log(JSON.stringify(result));
