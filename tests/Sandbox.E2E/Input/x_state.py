#!/usr/bin/python3
"""Prints what the X server thinks is held down, as JSON, read with python3-xlib (not our code):
{"keys": [pressed keycodes], "buttons": pointer button mask (Button1Mask..Button5Mask), "pointer": [x, y]}"""
import json

from Xlib import display

d = display.Display()
keymap = d.query_keymap()
keys = [i * 8 + b for i, byte in enumerate(keymap) for b in range(8) if byte >> b & 1]
p = d.screen().root.query_pointer()
print(json.dumps({"keys": keys, "buttons": p.mask & 0x1f00, "pointer": [p.root_x, p.root_y]}))
