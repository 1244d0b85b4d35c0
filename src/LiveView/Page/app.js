// Sandbox live view: draws the /view/stream frames on a canvas, lists recent actions, starts/stops the
// recorder, takes screenshots and, when the appliance allows it, forwards clicks and keys as actions.
// No dependencies; served from the appliance binary.
'use strict';
(() => {
  const $ = (id) => document.getElementById(id);
  const canvas = $('screen');
  const ctx = canvas.getContext('2d', { alpha: false });
  const stage = $('stage');

  // Observable state, also read by the browser tests.
  const view = window.sandboxView = {
    connected: false, hello: null, frames: 0, drawn: 0, skippedDecodes: 0, lastFrame: null,
    lastAgeMs: null, screen: null, recording: null, controlResults: [], activity: [],
  };

  // SANDBOX_TOKEN: taken from ?token= once, kept for this tab only, and removed from the address bar.
  const query = new URLSearchParams(location.search);
  if (query.has('token')) {
    sessionStorage.setItem('sandbox-token', query.get('token'));
    query.delete('token');
    history.replaceState(null, '', location.pathname + (query.toString() ? '?' + query : ''));
  }
  const token = sessionStorage.getItem('sandbox-token');
  const auth = token ? { Authorization: 'token ' + token } : {};
  const api = (url) => fetch(url, { cache: 'no-store', headers: auth });
  // State changes are JSON POSTs (a browser may not start a recording with a GET).
  const post = (url, body) => fetch(url, {
    method: 'POST', cache: 'no-store', headers: { ...auth, 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  });

  let socket = null;
  let pendingMeta = null;      // the "frame" message whose JPEG comes next
  let decoding = false;        // one decode at a time; a newer frame replaces a waiting one
  let waiting = null;
  let controlOn = false;
  let nextId = 1;
  const fpsWindow = [];

  // ---- stream -------------------------------------------------------------------------------
  function connect() {
    // A browser WebSocket cannot carry a header: the token goes in the query.
    const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/view/stream' +
      (token ? '?token=' + encodeURIComponent(token) : '');
    setPill($('connection'), 'connecting', 'connecting');
    socket = new WebSocket(url);
    socket.binaryType = 'blob';
    socket.onopen = () => { view.connected = true; setPill($('connection'), 'live', 'live'); };
    socket.onclose = async () => {
      view.connected = false;
      setPill($('connection'), 'closed', 'disconnected — retrying');
      try {
        if ((await api('/view/status')).status === 401) {
          setPill($('connection'), 'error', 'needs the token');
          $('stage-message').textContent = 'This appliance needs its SANDBOX_TOKEN: open this page as /?token=<token>';
        }
      } catch { /* the appliance is away; retry */ }
      setTimeout(connect, 1000);
    };
    socket.onmessage = (e) => {
      if (typeof e.data === 'string') onMessage(JSON.parse(e.data));
      else if (pendingMeta) { onFrame(pendingMeta, e.data); pendingMeta = null; }
    };
  }

  function onMessage(m) {
    switch (m.type) {
      case 'hello': onHello(m); break;
      case 'frame': pendingMeta = m; break;
      case 'activity': addActivity(m.entry); break;
      case 'display':
        $('stage-message').textContent = m.state === 'connected' ? '' : 'display unavailable: ' + (m.message || '');
        break;
      case 'control_result':
        view.controlResults.push(m);
        if (m.status !== 'ok') toast('control: ' + (m.message || m.code));
        break;
    }
  }

  function onHello(m) {
    view.hello = m;
    $('activity').replaceChildren();
    view.activity = [];
    for (const entry of m.activity) addActivity(entry);
    $('control-toggle').hidden = !m.control;
    const viewOnly = $('view-only');
    viewOnly.hidden = m.control;
    viewOnly.title = m.control_unavailable || '';
    if (!m.control) setControl(false);
  }

  function onFrame(meta, blob) {
    view.frames++;
    if (decoding) {
      if (waiting) view.skippedDecodes++;
      waiting = { meta, blob };
      return;
    }
    draw(meta, blob);
  }

  async function draw(meta, blob) {
    decoding = true;
    try {
      const bitmap = await createImageBitmap(blob);
      if (canvas.width !== bitmap.width || canvas.height !== bitmap.height) {
        canvas.width = bitmap.width;
        canvas.height = bitmap.height;
      }
      ctx.drawImage(bitmap, 0, 0);
      bitmap.close();
      view.drawn++;
      view.lastFrame = meta;
      view.screen = meta.screen;
      view.lastAgeMs = Date.now() - meta.captured_ms;
      $('stage-message').textContent = '';
      $('screen-info').textContent = `${meta.screen[0]}×${meta.screen[1]}`;
      $('pointer-info').textContent = `pointer ${meta.pointer[0]}, ${meta.pointer[1]}`;
      const now = performance.now();
      fpsWindow.push(now);
      while (fpsWindow.length && now - fpsWindow[0] > 2000) fpsWindow.shift();
      $('fps-info').textContent = `${(fpsWindow.length / 2).toFixed(1)} fps`;
    } catch (err) {
      console.warn('frame decode failed', err);
    } finally {
      decoding = false;
      if (waiting) { const w = waiting; waiting = null; draw(w.meta, w.blob); }
    }
  }

  // ---- activity -----------------------------------------------------------------------------
  function addActivity(entry) {
    view.activity.push(entry);
    const li = document.createElement('li');
    li.dataset.status = entry.status || '';
    const time = document.createElement('span');
    time.className = 'time';
    time.textContent = new Date(entry.time).toLocaleTimeString();
    const source = document.createElement('span');
    source.className = 'source';
    source.dataset.source = entry.source;
    source.textContent = entry.source;
    const text = document.createElement('span');
    text.className = 'text';
    text.textContent = entry.text;
    li.append(time, source, text);
    const list = $('activity');
    list.prepend(li);
    while (list.children.length > 100) list.lastChild.remove();
    $('activity-empty').hidden = true;
  }

  // ---- recording ----------------------------------------------------------------------------
  async function recordingStatus() {
    try {
      const r = await api('/record?mode=status');
      if (!r.ok) throw new Error(String(r.status));
      showRecording(await r.json());
    } catch {
      view.recording = null;
      setPill($('recording-state'), 'unknown', 'recording: unavailable');
      $('record-button').disabled = true;
    }
  }

  function isRecording(s) {
    return s && ['action_recording_started', 'action_recording_in_progress', 'already_recording'].includes(s.action_recording_status);
  }

  function showRecording(s) {
    view.recording = s;
    const on = isRecording(s);
    setPill($('recording-state'), on ? 'recording' : 'idle', on ? '● recording' : 'not recording');
    const b = $('record-button');
    b.disabled = false;
    b.textContent = on ? 'Stop recording' : 'Start recording';
    b.classList.toggle('recording', on);
  }

  $('record-button').addEventListener('click', async () => {
    const b = $('record-button');
    const mode = isRecording(view.recording) ? 'stop' : 'start';
    b.disabled = true;
    try {
      const r = await post('/record', { mode });
      const body = await r.json();
      if (!r.ok) throw new Error(body.message || r.status);
      if (mode === 'stop') {
        toast(`recording stopped: ${body.num_actions ?? 0} actions` +
          (body.action_recording_file ? ` → ${body.action_recording_file}` : '') +
          (body.screen_recording_file ? `, video ${body.screen_recording_file}` : ''));
      } else {
        toast('recording started');
      }
      showRecording(mode === 'stop' ? { ...body, action_recording_status: 'stopped' } : body);
    } catch (err) {
      toast(`recording ${mode} failed: ${err.message}`);
    } finally {
      recordingStatus();
    }
  });

  // ---- screenshot ---------------------------------------------------------------------------
  $('screenshot-button').addEventListener('click', async () => {
    try {
      const r = await api('/screenshot?response=image&format=png');
      if (!r.ok) throw new Error((await r.json()).message || r.status);
      const blob = await r.blob();
      const a = document.createElement('a');
      a.href = URL.createObjectURL(blob);
      a.download = 'screenshot-' + new Date().toISOString().replace(/[:.]/g, '-') + '.png';
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(a.href), 10000);
      toast(`screenshot ${r.headers.get('X-Screen-Size') || ''} (${Math.round(blob.size / 1024)} KB) downloaded`);
    } catch (err) {
      toast('screenshot failed: ' + err.message);
    }
  });

  // ---- control ------------------------------------------------------------------------------
  function setControl(on) {
    controlOn = on;
    $('control-input').checked = on;
    stage.classList.toggle('control', on);
    if (on) stage.focus();
  }
  $('control-input').addEventListener('change', (e) => setControl(e.target.checked));

  function send(action) {
    if (!controlOn || !socket || socket.readyState !== WebSocket.OPEN) return;
    socket.send(JSON.stringify({ type: 'action', id: nextId++, action }));
  }

  function screenPoint(e) {
    if (!view.screen) return null;
    const r = canvas.getBoundingClientRect();
    const x = Math.floor((e.clientX - r.left) / r.width * view.screen[0]);
    const y = Math.floor((e.clientY - r.top) / r.height * view.screen[1]);
    if (x < 0 || y < 0 || x >= view.screen[0] || y >= view.screen[1]) return null;
    return [x, y];
  }

  canvas.addEventListener('click', (e) => {
    const p = screenPoint(e);
    if (controlOn && p) { stage.focus(); send({ action: e.button === 1 ? 'middle_click' : 'left_click', coordinate: p }); }
  });
  canvas.addEventListener('contextmenu', (e) => {
    if (!controlOn) return;
    e.preventDefault();
    const p = screenPoint(e);
    if (p) send({ action: 'right_click', coordinate: p });
  });
  canvas.addEventListener('wheel', (e) => {
    if (!controlOn) return;
    e.preventDefault();
    const p = screenPoint(e);
    if (!p) return;
    const vertical = Math.abs(e.deltaY) >= Math.abs(e.deltaX);
    const dir = vertical ? (e.deltaY > 0 ? 'down' : 'up') : (e.deltaX > 0 ? 'right' : 'left');
    send({ action: 'scroll', coordinate: p, scroll_direction: dir, scroll_amount: 1 });
  }, { passive: false });

  // Printable characters are batched into one "type" action; anything else is a "key" chord.
  let typed = '';
  let typeTimer = 0;
  function flushTyped() {
    clearTimeout(typeTimer);
    if (typed) send({ action: 'type', text: typed });
    typed = '';
  }
  const modifierKeys = new Set(['Control', 'Shift', 'Alt', 'Meta', 'AltGraph', 'CapsLock']);
  stage.addEventListener('keydown', (e) => {
    if (!controlOn || modifierKeys.has(e.key)) return;
    e.preventDefault();
    const chord = e.ctrlKey || e.altKey || e.metaKey;
    if (e.key.length === 1 && !chord) {
      typed += e.key;
      clearTimeout(typeTimer);
      typeTimer = setTimeout(flushTyped, 60);
      return;
    }
    flushTyped();
    const parts = [];
    if (e.ctrlKey) parts.push('ctrl');
    if (e.altKey) parts.push('alt');
    if (e.metaKey) parts.push('super');
    if (e.shiftKey && e.key.length > 1) parts.push('shift');
    parts.push(e.key === ' ' ? 'space' : e.key.length === 1 ? e.key.toLowerCase() : e.key);
    send({ action: 'key', text: parts.join('+') });
  });

  // ---- helpers ------------------------------------------------------------------------------
  function setPill(el, state, text) { el.dataset.state = state; el.textContent = text; }
  let toastTimer = 0;
  function toast(text) {
    const t = $('toast');
    t.textContent = text;
    t.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { t.hidden = true; }, 4000);
  }

  connect();
  recordingStatus();
  setInterval(recordingStatus, 2000);
})();
