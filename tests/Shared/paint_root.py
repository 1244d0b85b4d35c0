#!/usr/bin/python3
"""Paints an image on the root window of an X display, so screenshots have known pixels.

Usage: paint_root.py IMAGE  (DISPLAY from the environment)
The pixmap is kept after we disconnect (RetainPermanent), so the picture survives this process.
Uses python3-xlib and python3-pil from Debian; independent of the code under test.
"""
import sys
from PIL import Image
from Xlib import X, display as xdisplay

def main():
    img = Image.open(sys.argv[1]).convert("RGB")
    d = xdisplay.Display()
    screen = d.screen()
    root = screen.root
    w, h = img.size
    pixmap = root.create_pixmap(w, h, screen.root_depth)
    gc = pixmap.create_gc()
    raw = img.tobytes("raw", "BGRX")
    band = max(1, 200000 // (w * 4))
    for y in range(0, h, band):
        rows = min(band, h - y)
        pixmap.put_image(gc, 0, y, w, rows, X.ZPixmap, screen.root_depth, 0, raw[y * w * 4:(y + rows) * w * 4])
    root.change_attributes(background_pixmap=pixmap)
    root.clear_area(0, 0, 0, 0)
    d.set_close_down_mode(X.RetainPermanent)
    d.sync()
    d.close()

if __name__ == "__main__":
    main()
