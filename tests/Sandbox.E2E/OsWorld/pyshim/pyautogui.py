"""A minimal stand-in for pyautogui (not packaged by Debian) over python3-xlib's XTEST, so the
conformance tests can send the very commands OSWorld's PythonController sends through /execute
("import pyautogui; import time; pyautogui.FAILSAFE = False; pyautogui.click(x=.., y=..)").
Only what the tests call is here: moveTo, click, typewrite, press, position, size."""
from collections import namedtuple

from Xlib import X, XK, display
from Xlib.ext import xtest

FAILSAFE = True
PAUSE = 0
Point = namedtuple("Point", "x y")
Size = namedtuple("Size", "width height")
_d = display.Display()
_BUTTONS = {"left": 1, "middle": 2, "right": 3}


def _sync():
    _d.sync()


def size():
    s = _d.screen()
    return Size(s.width_in_pixels, s.height_in_pixels)


def position():
    p = _d.screen().root.query_pointer()
    return Point(p.root_x, p.root_y)


def moveTo(x=None, y=None, duration=0.0, tween=None):
    if x is None or y is None:
        return
    xtest.fake_input(_d, X.MotionNotify, x=int(x), y=int(y))
    _sync()


def click(x=None, y=None, clicks=1, button="left", **_):
    moveTo(x, y)
    b = _BUTTONS[button]
    for _ in range(clicks):
        xtest.fake_input(_d, X.ButtonPress, b)
        xtest.fake_input(_d, X.ButtonRelease, b)
    _sync()


def _key(name):
    keysym = XK.string_to_keysym({"enter": "Return", " ": "space", "\n": "Return"}.get(name, name))
    code = _d.keysym_to_keycode(keysym)
    shifted = name.isupper() or name in '~!@#$%^&*()_+{}|:"<>?'
    if shifted:
        xtest.fake_input(_d, X.KeyPress, _d.keysym_to_keycode(XK.XK_Shift_L))
    xtest.fake_input(_d, X.KeyPress, code)
    xtest.fake_input(_d, X.KeyRelease, code)
    if shifted:
        xtest.fake_input(_d, X.KeyRelease, _d.keysym_to_keycode(XK.XK_Shift_L))


def typewrite(text, interval=0.0):
    for ch in text:
        _key(ch)
    _sync()


def press(key):
    _key(key)
    _sync()
