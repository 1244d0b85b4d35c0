#!/usr/bin/python3
"""The Python reference pipeline the benchmarks compare against.

It does what the old suite's screenshot endpoint did, with Debian's packages: FastAPI + uvicorn,
Pillow's ImageGrab (XCB), the XFixes cursor image (python3-xlib) pasted with its alpha at the
pointer minus the hotspot, ImageDraw for the red box and the `mouse: x= y=` label, PNG saved to
SHARED_DIR/screenshots. Not part of the product; run by tests/bench only.

Usage: old_suite_server.py PORT SHARED_DIR   (DISPLAY from the environment)
"""
import os
import sys
import time

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from PIL import Image, ImageDraw, ImageGrab
from Xlib import display as xdisplay
from Xlib.ext import xfixes  # noqa: F401  (registers the extension)
import uvicorn

PORT = int(sys.argv[1])
SHARED = sys.argv[2]
app = FastAPI()
dpy = xdisplay.Display()
root = dpy.screen().root
dpy.xfixes_query_version()


def cursor_image():
    c = dpy.xfixes_get_cursor_image(root)
    w, h = c.width, c.height
    # XFixes gives premultiplied ARGB longs; Pillow wants straight RGBA.
    px = bytearray(w * h * 4)
    for i, v in enumerate(c.cursor_image):
        a = (v >> 24) & 0xFF
        r, g, b = (v >> 16) & 0xFF, (v >> 8) & 0xFF, v & 0xFF
        if a:
            r, g, b = min(255, r * 255 // a), min(255, g * 255 // a), min(255, b * 255 // a)
        px[i * 4:i * 4 + 4] = bytes((r, g, b, a))
    return Image.frombytes("RGBA", (w, h), bytes(px)), c.xhot, c.yhot


@app.get("/health")
def health():
    return {"status": "ok"}


@app.get("/screenshot")
def screenshot(method: str = "pyautogui"):
    img = ImageGrab.grab()
    p = root.query_pointer()
    x, y = p.root_x, p.root_y
    cur, hx, hy = cursor_image()
    img.paste(cur, (x - hx, y - hy), cur)
    draw = ImageDraw.Draw(img)
    draw.rectangle([x - 10, y - 10, x + 10, y + 10], outline="red", width=2)
    draw.text((x + 12, y - 24), f"mouse: x={x} y={y}", fill="red")
    os.makedirs(os.path.join(SHARED, "screenshots"), exist_ok=True)
    rel = f"screenshots/screenshot_{time.time_ns()}.png"
    img.save(os.path.join(SHARED, rel))
    return JSONResponse({"screenshot_path": rel, "mouse_position": [x, y], "screen_size": list(img.size)})


if __name__ == "__main__":
    uvicorn.run(app, host=os.environ.get("REFERENCE_HOST", "127.0.0.1"), port=PORT, log_level="warning")
