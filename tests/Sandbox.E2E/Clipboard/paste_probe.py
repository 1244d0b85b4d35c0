"""A Tk entry for the clipboard tests: it takes the focus and prints its text (JSON) whenever it changes."""
import json
import sys
import tkinter as tk

root = tk.Tk()
root.title(sys.argv[1] if len(sys.argv) > 1 else "paste probe")
root.geometry("600x100+0+0")
var = tk.StringVar()
entry = tk.Entry(root, textvariable=var, width=60)
entry.pack(fill="both", expand=True)


def changed(*_):
    print(json.dumps({"text": var.get()}), flush=True)


var.trace_add("write", changed)


def ready():
    entry.focus_force()
    print(json.dumps({"ready": True}), flush=True)


root.after(200, ready)
root.mainloop()
