#!/usr/bin/python3
"""A small GTK 3 window for the accessibility tests: a button that counts its clicks into a label, an
entry, a scale and a list. It prints each change on stdout ("clicked 1", "entry hello", "scale 42.0",
"selected row-2") so tests see the effect of element actions from the application's side.

  a11y_app.py TITLE
"""
import sys

import gi

gi.require_version("Gtk", "3.0")
from gi.repository import GLib, Gtk  # noqa: E402


def say(line):
    print(line, flush=True)


def main():
    title = sys.argv[1] if len(sys.argv) > 1 else "A11y Probe"
    GLib.set_prgname(title)  # the application's accessible name, which app= filters on
    win = Gtk.Window(title=title)
    win.set_default_size(480, 360)
    win.connect("destroy", Gtk.main_quit)
    box = Gtk.Box(orientation=Gtk.Orientation.VERTICAL, spacing=6)
    win.add(box)

    label = Gtk.Label(label="Clicked 0 times")
    count = [0]

    def clicked(_):
        count[0] += 1
        label.set_text("Clicked %d times" % count[0])
        say("clicked %d" % count[0])

    button = Gtk.Button(label="Count")
    button.connect("clicked", clicked)
    box.pack_start(button, False, False, 0)
    box.pack_start(label, False, False, 0)

    entry = Gtk.Entry()
    entry.connect("changed", lambda e: say("entry " + e.get_text()))
    box.pack_start(entry, False, False, 0)

    scale = Gtk.Scale.new_with_range(Gtk.Orientation.HORIZONTAL, 0, 100, 1)
    scale.connect("value-changed", lambda s: say("scale %.1f" % s.get_value()))
    box.pack_start(scale, False, False, 0)

    listbox = Gtk.ListBox()
    for i in range(1, 4):
        row = Gtk.ListBoxRow()
        row.add(Gtk.Label(label="row-%d" % i))
        listbox.add(row)

    def selected(_, row):
        if row is not None:
            say("selected " + row.get_child().get_text())

    listbox.connect("row-selected", selected)
    box.pack_start(listbox, False, False, 0)

    win.show_all()
    say("ready")
    Gtk.main()


if __name__ == "__main__":
    main()
