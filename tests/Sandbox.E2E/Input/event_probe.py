#!/usr/bin/python3
"""An independent X client for the input tests: a Tk window that logs what it receives.

Layout (screen coordinates; the window sits at 0,0 with no window manager):
  a Text widget at 0,0 (600x300) that has the keyboard focus,
  a canvas at 0,300 (1000x400) with a 100x100 box at 50,350 that follows left-button drags.

Every event is one JSON line on stdout:
  {"event": "press"|"release", "button": n, "x": x_root, "y": y_root, "state": mask}
  {"event": "key"|"keyup", "keysym": name, "keycode": n, "char": text, "state": mask}
  {"event": "dropped", "x": left, "y": top}      after a drag of the box ends
Commands, one per stdin line (each answered after the X events sent before it were processed):
  text   -> {"event": "text", "value": <the Text widget's content>}
  clear  -> empties the Text widget, answers {"event": "cleared"}
  box    -> {"event": "box", "x": left, "y": top}
  quit
"""
import json
import sys
import tkinter

root = tkinter.Tk()
root.geometry("1000x700+0+0")
text = tkinter.Text(root, font=("Monospace", 12))
text.place(x=0, y=0, width=600, height=300)
canvas = tkinter.Canvas(root, background="white", highlightthickness=0)
canvas.place(x=0, y=300, width=1000, height=400)
box = canvas.create_rectangle(50, 50, 150, 150, fill="red", outline="")
drag = {"active": False, "x": 0, "y": 0}


def emit(obj):
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def box_origin():
    x0, y0, _, _ = canvas.coords(box)
    return int(round(x0 + canvas.winfo_rootx())), int(round(y0 + canvas.winfo_rooty()))


def on_button(kind):
    def handler(e):
        emit({"event": kind, "button": e.num, "x": e.x_root, "y": e.y_root, "state": e.state})
    return handler


def on_key(kind):
    def handler(e):
        emit({"event": kind, "keysym": e.keysym, "keycode": e.keycode, "char": e.char, "state": e.state})
    return handler


def box_press(e):
    drag.update(active=True, x=e.x, y=e.y)


def box_motion(e):
    if drag["active"]:
        canvas.move(box, e.x - drag["x"], e.y - drag["y"])
        drag.update(x=e.x, y=e.y)


def box_release(e):
    if drag["active"]:
        drag["active"] = False
        x, y = box_origin()
        emit({"event": "dropped", "x": x, "y": y})


# Logged through a bind tag of our own, first on every widget: Tk runs only the most specific binding
# of each tag, and the "all" tag has its own <Alt-Key> (menu traversal) that would hide Alt+key presses.
for widget in (root, text, canvas):
    widget.bindtags(("probe",) + widget.bindtags())
root.bind_class("probe", "<ButtonPress>", on_button("press"))
root.bind_class("probe", "<ButtonRelease>", on_button("release"))
root.bind_class("probe", "<KeyPress>", on_key("key"))
root.bind_class("probe", "<KeyRelease>", on_key("keyup"))
canvas.tag_bind(box, "<ButtonPress-1>", box_press)
canvas.bind("<B1-Motion>", box_motion)
canvas.bind("<ButtonRelease-1>", box_release)


def catch_up():
    # A round trip makes Xlib read every event the server sent before it; update() then runs them.
    root.winfo_pointerxy()
    root.update()


def on_stdin(_file, _mask):
    line = sys.stdin.readline()
    if not line:
        root.destroy()
        return
    command = line.strip()
    catch_up()
    if command == "text":
        emit({"event": "text", "value": text.get("1.0", "end-1c")})
    elif command == "clear":
        text.delete("1.0", "end")
        emit({"event": "cleared"})
    elif command == "box":
        x, y = box_origin()
        emit({"event": "box", "x": x, "y": y})
    elif command == "quit":
        root.destroy()


root.tk.createfilehandler(sys.stdin, tkinter.READABLE, on_stdin)
root.wait_visibility(text)
text.focus_force()
root.update()
emit({"event": "ready", "focus": str(root.focus_get())})
root.mainloop()
