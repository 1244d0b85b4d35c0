#!/usr/bin/python3
"""The Flask reference of OSWorld's in-VM server, for tests/bench/osworld_bench.py. Written from its
contract (the routes PythonController and SetupController call) with Debian's packages and OSWorld's
way of doing each thing: Flask's development server (threaded), subprocess.run for commands, Pillow's
ImageGrab with the XFixes cursor image pasted at the pointer and the PNG saved to a file then sent,
a pyatspi walk written with lxml for /accessibility (tests/Sandbox.E2E/Accessibility/pyatspi_reference.py,
one walk per application on a thread pool, as OSWorld), python3-xlib for sizes and the pointer.
Not part of the product.

Usage: osworld_flask_server.py PORT WORKDIR   (DISPLAY and the session bus from the environment)
"""
import concurrent.futures
import logging
import os
import platform
import subprocess
import sys
import tempfile
import uuid

import lxml.etree
from flask import Flask, jsonify, request, send_file
from PIL import Image, ImageGrab
from Xlib import display as xdisplay
from Xlib.ext import xfixes  # noqa: F401  (registers the extension)

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "Sandbox.E2E", "Accessibility"))
PORT, WORK = int(sys.argv[1]), sys.argv[2]
app = Flask(__name__)
logging.getLogger("werkzeug").setLevel(logging.ERROR)


def cursor_image(d):
    root = d.screen().root
    c = d.xfixes_get_cursor_image(root)
    px = bytearray(c.width * c.height * 4)
    for i, v in enumerate(c.cursor_image):
        a = (v >> 24) & 0xFF
        r, g, b = (v >> 16) & 0xFF, (v >> 8) & 0xFF, v & 0xFF
        if a:
            r, g, b = min(255, r * 255 // a), min(255, g * 255 // a), min(255, b * 255 // a)
        px[i * 4:i * 4 + 4] = bytes((r, g, b, a))
    return Image.frombytes("RGBA", (c.width, c.height), bytes(px))


@app.route("/screenshot", methods=["GET"])
def screenshot():
    path = os.path.join(WORK, "screenshots", "screenshot.png")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    d = xdisplay.Display()
    try:
        d.xfixes_query_version()
        cursor = cursor_image(d)
        img = ImageGrab.grab()
        p = d.screen().root.query_pointer()
        img.paste(cursor, (p.root_x, p.root_y), cursor)
        img.save(path)
    finally:
        d.close()
    return send_file(path, mimetype="image/png")


@app.route("/accessibility", methods=["GET"])
def accessibility():
    import pyatspi
    from pyatspi_reference import NS, node_xml
    desktop = pyatspi.Registry.getDesktop(0)
    root = lxml.etree.Element("desktop-frame", nsmap=NS)
    with concurrent.futures.ThreadPoolExecutor() as pool:
        for future in concurrent.futures.as_completed([pool.submit(node_xml, a, 1) for a in desktop]):
            root.append(future.result())
    return jsonify({"AT": lxml.etree.tostring(root, encoding="unicode")})


@app.route("/execute", methods=["POST"])
def execute():
    data = request.json
    shell = data.get("shell", False)
    command = data.get("command", "" if shell else [])
    try:
        r = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, shell=shell, text=True, timeout=120)
        return jsonify({"status": "success", "output": r.stdout, "error": r.stderr, "returncode": r.returncode})
    except Exception as e:
        return jsonify({"status": "error", "message": str(e)}), 500


@app.route("/run_python", methods=["POST"])
def run_python():
    code = request.json.get("code")
    path = f"/tmp/python_exec_{uuid.uuid4().hex}.py"
    with open(path, "w") as f:
        f.write(code)
    try:
        r = subprocess.run(["/usr/bin/python3", path], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=30)
    finally:
        os.remove(path)
    message = r.stdout + (("\n" + r.stderr) if r.stdout and r.stderr else r.stderr)
    return jsonify({"status": "success" if r.returncode == 0 else "error", "message": message, "need_more": False,
                    "output": r.stdout, "error": r.stderr, "return_code": r.returncode})


@app.route("/run_bash_script", methods=["POST"])
def run_bash_script():
    data = request.json
    script = data["script"]
    if "#!/bin/bash" not in script:
        script = "#!/bin/bash\n\n" + script
    with tempfile.NamedTemporaryFile(mode="w", suffix=".sh", delete=False) as f:
        f.write(script)
    try:
        r = subprocess.run(["/bin/bash", f.name], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           timeout=data.get("timeout", 100), cwd=data.get("working_dir"))
    finally:
        os.unlink(f.name)
    return jsonify({"status": "success" if r.returncode == 0 else "error", "output": r.stdout, "error": "", "returncode": r.returncode})


@app.route("/screen_size", methods=["POST"])
def screen_size():
    d = xdisplay.Display()
    s = d.screen()
    w, h = s.width_in_pixels, s.height_in_pixels
    d.close()
    return jsonify({"width": w, "height": h})


@app.route("/cursor_position", methods=["GET"])
def cursor_position():
    d = xdisplay.Display()
    p = d.screen().root.query_pointer()
    d.close()
    return jsonify(p.root_x, p.root_y)


@app.route("/platform", methods=["GET"])
def get_platform():
    return platform.system()


@app.route("/file", methods=["POST"])
def get_file():
    path = os.path.expandvars(os.path.expanduser(request.form["file_path"]))
    if not os.path.exists(path):
        return jsonify({"error": "File not found"}), 404
    return send_file(path, as_attachment=True)


@app.route("/list_directory", methods=["POST"])
def list_directory():
    def walk(directory):
        tree = {"type": "directory", "name": os.path.basename(directory), "children": []}
        for entry in os.listdir(directory):
            full = os.path.join(directory, entry)
            tree["children"].append(walk(full) if os.path.isdir(full) else {"type": "file", "name": entry})
        return tree
    return jsonify(directory_tree=walk(request.get_json()["path"]))


app.run(host="127.0.0.1", port=PORT, threaded=True)
