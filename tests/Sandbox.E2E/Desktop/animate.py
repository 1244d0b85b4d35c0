"""A Tk canvas for the wait tests. Reads commands on stdin: 'animate N' moves a box for N frames (20 ms
apart) and prints {"stopped": monotonic_ns} after the last frame is drawn; 'forever' never stops;
'color' repaints the box once. Prints {"ready": true} when mapped."""
import json
import sys
import threading
import time
import tkinter as tk

root = tk.Tk()
root.title("animation probe")
root.geometry("400x300+0+0")
c = tk.Canvas(root, width=400, height=300, bg="white", highlightthickness=0)
c.pack()
box = c.create_rectangle(10, 10, 60, 60, fill="red", outline="")
state = {"left": 0, "x": 0}


def step():
    if state["left"] == 0:
        return
    state["x"] = (state["x"] + 7) % 300
    c.coords(box, 10 + state["x"], 10, 60 + state["x"], 60)
    if state["left"] > 0:
        state["left"] -= 1
    if state["left"] == 0:
        root.update_idletasks()
        root.tk.call("update", "idletasks")
        print(json.dumps({"stopped": time.monotonic_ns()}), flush=True)
        return
    root.after(20, step)


def command(line):
    parts = line.split()
    if parts[0] == "animate":
        state["left"] = int(parts[1])
        step()
    elif parts[0] == "forever":
        state["left"] = -1
        step()
    elif parts[0] == "color":
        c.itemconfigure(box, fill="blue")


def reader():
    for line in sys.stdin:
        if line.strip():
            root.after(0, command, line.strip())


threading.Thread(target=reader, daemon=True).start()
root.after(300, lambda: print(json.dumps({"ready": True}), flush=True))
root.mainloop()
