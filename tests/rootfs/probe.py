#!/usr/bin/python3
"""Checks an appliance running in the minimal root: health, a screenshot, a kernel execution.

Usage: probe.py PORT GATEWAY_PORT SHARED_DIR_ON_HOST SCENE
Prints one line per check; exits non-zero on the first failure.
"""
import json
import sys
import time

import requests
from PIL import Image

port, gport, shared, scene = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
base = f"http://127.0.0.1:{port}"

deadline = time.time() + 30
while True:
    try:
        h = requests.get(base + "/health", timeout=2).json()
        if h["display"]["state"] == "connected":
            break
    except (requests.RequestException, ValueError, KeyError):
        pass
    if time.time() > deadline:
        sys.exit("health never reported a connected display")
    time.sleep(0.1)
assert h["status"] == "ok", h
print(f"health: ok, display {h['display']['name']} {h['display']['screen_size']}")

s = requests.get(base + "/screenshot?cursor=false&annotate=false", timeout=30).json()
img = Image.open(f"{shared}/{s['screenshot_path']}").convert("RGB")
ref = Image.open(scene).convert("RGB").crop((0, 0) + img.size)
assert img.tobytes() == ref.tobytes(), "screenshot pixels differ from the painted scene"
print(f"screenshot: {img.size[0]}x{img.size[1]} identical to the scene")

# One kernel execution through the gateway, when this build has one.
try:
    api = requests.get(f"http://127.0.0.1:{gport}/api", timeout=2)
except requests.RequestException:
    api = None
if api is None or api.status_code != 200:
    print("kernel: no gateway in this build; skipped")
    sys.exit(0)
import websocket  # python3-websocket

k = requests.post(f"http://127.0.0.1:{gport}/api/kernels", timeout=60).json()
ws = websocket.create_connection(f"ws://127.0.0.1:{gport}/api/kernels/{k['id']}/channels", timeout=60)
msg_id = "rootfs-probe-1"
ws.send(json.dumps({"header": {"msg_id": msg_id, "msg_type": "execute_request", "username": "", "session": "s",
                               "version": "5.3", "date": ""},
                    "parent_header": {}, "metadata": {}, "channel": "shell",
                    "content": {"code": "import sys; print(sys.prefix); 6*7", "silent": False}}))
result = None
while True:
    m = json.loads(ws.recv())
    if m.get("parent_header", {}).get("msg_id") != msg_id:
        continue
    if m["msg_type"] == "execute_result":
        result = m["content"]["data"]["text/plain"]
    if m["msg_type"] == "status" and m["content"]["execution_state"] == "idle":
        break
ws.close()
assert result == "42", result
print("kernel: executed 6*7 -> 42 in the minimal root's python3")
