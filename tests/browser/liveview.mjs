// Drives the live view page in Debian's headless Chromium (playwright-core, system browser) and prints
// one JSON object with what it saw. The xunit test (tests/Sandbox.E2E/LiveView) starts Xvfb and the
// appliance, runs this script, and asserts on the JSON and the files written to OUT_DIR.
//   node liveview.mjs BASE_URL OUT_DIR STEP...
// Steps: load[:?QUERY]; needs-token; frame[:NAME] (the canvas's pixels → OUT_DIR/NAME.png, default frame); page (screenshot of
//        the page → OUT_DIR/page.png); mark:NAME (creates OUT_DIR/NAME, for the test to act on); wait-frame
//        (until a frame newer than the one drawn arrives); record; screenshot; mjpeg; control-off;
//        control-on:X,Y (enables control and clicks screen point X,Y on the canvas); keys:TEXT (types TEXT
//        and Enter on the screen); activity:TEXT (waits for a side-list entry containing TEXT)
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [base, outDir, ...steps] = process.argv.slice(2);
const result = { steps: {}, console: [] };
const profile = mkdtempSync(join(tmpdir(), 'sandbox-chromium-'));
// A fresh profile directory (Playwright passes it as --user-data-dir) for every run.
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
  viewport: { width: 1600, height: 900 },
  acceptDownloads: true,
  timeout: 60_000,
});

const waitFor = (page, fn, arg, timeout = 20_000) => page.waitForFunction(fn, arg, { timeout, polling: 50 });

try {
  const page = context.pages()[0] || await context.newPage();
  page.on('console', (m) => result.console.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => result.console.push(`pageerror: ${e.message}`));

  for (const step of steps) {
    const [name, arg] = step.split(':');
    const started = Date.now();
    try {
      result.steps[step] = await run(page, name, arg);
    } catch (e) {
      result.steps[step] = { error: String(e && e.message || e) };
    }
    result.steps[step].ms = Date.now() - started;
  }
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
process.stdout.write(JSON.stringify(result) + '\n');

async function run(page, name, arg) {
  switch (name) {
    case 'load': {
      const response = await page.goto(base + '/' + (arg || ''), { waitUntil: 'load' });
      await waitFor(page, () => window.sandboxView && window.sandboxView.drawn > 0);
      return {
        status: response.status(),
        title: await page.title(),
        hello: await page.evaluate(() => window.sandboxView.hello),
        frame: await page.evaluate(() => window.sandboxView.lastFrame),
        connection: await page.textContent('#connection'),
      };
    }
    case 'needs-token': {
      // Without the token the page still loads (its shell is open) and says what it needs. A new tab:
      // the token an earlier step gave is kept in that tab's sessionStorage only.
      const tab = await page.context().newPage();
      try {
        const response = await tab.goto(base + '/', { waitUntil: 'load' });
        await waitFor(tab, () => document.getElementById('connection').textContent === 'needs the token');
        return { status: response.status(), message: await tab.textContent('#stage-message'), drawn: await tab.evaluate(() => window.sandboxView.drawn) };
      } finally {
        await tab.close();
      }
    }
    case 'frame': {
      // The canvas's own pixels, as the page drew the decoded JPEG (not a screenshot of the page).
      const seq = await page.evaluate(() => window.sandboxView.lastFrame.seq);
      const dataUrl = await page.evaluate(() => document.getElementById('screen').toDataURL('image/png'));
      const file = join(outDir, (arg || 'frame') + '.png');
      writeFileSync(file, Buffer.from(dataUrl.split(',')[1], 'base64'));
      return { file, seq, size: await page.evaluate(() => [document.getElementById('screen').width, document.getElementById('screen').height]) };
    }
    case 'mark': {
      const seq = await page.evaluate(() => window.sandboxView.lastFrame.seq);
      writeFileSync(join(outDir, arg), String(seq));
      return { seq };
    }
    case 'wait-frame': {
      // Waits until the screen the test changed after "mark" arrives: a frame newer than the marked one.
      const marked = await page.evaluate(() => window.sandboxView.lastFrame.seq);
      const seen = [];
      await waitFor(page, (s) => window.sandboxView.lastFrame.seq > s, marked, 30_000);
      // Settle: a paint may arrive over more than one frame; wait until a frame interval passes quietly.
      let last = -1;
      for (let i = 0; i < 50; i++) {
        const now = await page.evaluate(() => window.sandboxView.lastFrame.seq);
        seen.push(now);
        if (now === last) break;
        last = now;
        await page.waitForTimeout(400);
      }
      return { frame: await page.evaluate(() => window.sandboxView.lastFrame), ageMs: await page.evaluate(() => window.sandboxView.lastAgeMs), seen };
    }
    case 'page': {
      const file = join(outDir, 'page.png');
      await page.screenshot({ path: file });
      return { file };
    }
    case 'record': {
      await waitFor(page, () => !document.getElementById('record-button').disabled);
      const before = await page.evaluate(() => window.sandboxView.recording);
      await page.click('#record-button');
      await waitFor(page, () => document.getElementById('record-button').textContent === 'Stop recording' && !document.getElementById('record-button').disabled);
      const during = await page.textContent('#recording-state');
      await page.waitForTimeout(500);
      await page.click('#record-button');
      await waitFor(page, () => document.getElementById('record-button').textContent === 'Start recording' && !document.getElementById('record-button').disabled);
      return { before, during, after: await page.textContent('#recording-state'), toast: await page.textContent('#toast') };
    }
    case 'screenshot': {
      const [download] = await Promise.all([page.waitForEvent('download', { timeout: 20_000 }), page.click('#screenshot-button')]);
      const file = join(outDir, 'download.png');
      await download.saveAs(file);
      return { file, suggested: download.suggestedFilename() };
    }
    case 'control-off':
    case 'control-on': {
      const toggleVisible = await page.isVisible('#control-toggle');
      const viewOnlyVisible = await page.isVisible('#view-only');
      let clicked = null;
      if (name === 'control-on' && toggleVisible) {
        await page.check('#control-input');
        const [x, y] = arg.split(',').map(Number);
        // Click where screen point (x, y) is drawn on the canvas.
        const box = await page.locator('#screen').boundingBox();
        const scr = await page.evaluate(() => window.sandboxView.screen);
        const cx = box.x + (x + 0.5) * box.width / scr[0], cy = box.y + (y + 0.5) * box.height / scr[1];
        const before = await page.evaluate(() => window.sandboxView.controlResults.length);
        await page.mouse.click(cx, cy);
        await waitFor(page, (n) => window.sandboxView.controlResults.length > n, before);
        clicked = await page.evaluate(() => window.sandboxView.controlResults.at(-1));
      }
      // What the server answers to a control message, whatever the page shows: sent on a socket of our own.
      const direct = await page.evaluate(() => new Promise((resolve, reject) => {
        const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/view/stream');
        ws.onopen = () => ws.send(JSON.stringify({ type: 'action', id: 7, action: { action: 'mouse_move', coordinate: [5, 5] } }));
        ws.onmessage = (e) => {
          if (typeof e.data !== 'string') return;
          const m = JSON.parse(e.data);
          if (m.type === 'control_result') { ws.close(); resolve(m); }
        };
        ws.onerror = () => reject(new Error('websocket error'));
        setTimeout(() => reject(new Error('no control_result')), 10_000);
      }));
      return { toggleVisible, viewOnlyVisible, clicked, direct, activity: await page.evaluate(() => window.sandboxView.activity) };
    }
    case 'control-refused': {
      // A screenshot action is not input: the live view refuses it even with control on.
      return await page.evaluate(() => new Promise((resolve, reject) => {
        const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/view/stream');
        ws.onopen = () => ws.send(JSON.stringify({ type: 'action', id: 9, action: { action: 'screenshot' } }));
        ws.onmessage = (e) => {
          if (typeof e.data !== 'string') return;
          const m = JSON.parse(e.data);
          if (m.type === 'control_result') { ws.close(); resolve(m); }
        };
        setTimeout(() => reject(new Error('no control_result')), 10_000);
      }));
    }
    case 'keys': {
      // Typed on the focused screen with control on: printable keys become one "type", Enter a "key".
      const before = await page.evaluate(() => window.sandboxView.controlResults.length);
      await page.focus('#stage');
      await page.keyboard.type(arg);
      await page.keyboard.press('Enter');
      await waitFor(page, (n) => window.sandboxView.controlResults.length >= n + 2, before);
      return { results: await page.evaluate((n) => window.sandboxView.controlResults.slice(n), before) };
    }
    case 'activity': {
      // Waits until the side list shows an entry whose text contains ARG.
      await waitFor(page, (t) => [...document.querySelectorAll('#activity .text')].some((e) => e.textContent.includes(t)), arg);
      return { items: await page.evaluate(() => [...document.querySelectorAll('#activity li')].map((li) => li.textContent)) };
    }
    case 'mjpeg': {
      // A plain <img> on the MJPEG stream shows the screen too.
      // Chrome fires no load event for a multipart stream that never ends; the size appears with the first part.
      const size = await page.evaluate((url) => new Promise((resolve, reject) => {
        const img = new Image();
        img.onerror = () => reject(new Error('mjpeg image failed'));
        img.src = url;
        document.body.append(img);
        const started = Date.now();
        const poll = setInterval(() => {
          if (img.naturalWidth > 0) { clearInterval(poll); const s = [img.naturalWidth, img.naturalHeight]; img.remove(); resolve(s); }
          else if (Date.now() - started > 10_000) { clearInterval(poll); reject(new Error('mjpeg: no image')); }
        }, 50);
      }), base + '/view/mjpeg');
      return { size };
    }
    default:
      throw new Error('unknown step ' + name);
  }
}
