#!/usr/bin/python3
"""Reference walk for the accessibility tests and benchmark: pyatspi walks the desktop and writes the
tree in OSWorld's XML contract (element = role name with '-', st:/attr:/cp:/val:/act: attributes, text
without U+FFFC/U+FFFD, depth <= 50, <= 1024 children), one blocking call per property, as OSWorld's
server does. Written from the contract for comparison; prints the XML (or, with --time, the walk's
duration in ms and the element count).

  pyatspi_reference.py [--app NAME] [--time N]
"""
import json
import sys
import time

import pyatspi
import lxml.etree as etree

NS = {
    "st": "https://accessibility.ubuntu.example.org/ns/state",
    "attr": "https://accessibility.ubuntu.example.org/ns/attributes",
    "cp": "https://accessibility.ubuntu.example.org/ns/component",
    "doc": "https://accessibility.ubuntu.example.org/ns/document",
    "docattr": "https://accessibility.ubuntu.example.org/ns/document/attributes",
    "txt": "https://accessibility.ubuntu.example.org/ns/text",
    "val": "https://accessibility.ubuntu.example.org/ns/value",
    "act": "https://accessibility.ubuntu.example.org/ns/action",
}


def q(prefix, name):
    return "{%s}%s" % (NS[prefix], name)


def node_xml(acc, depth):
    attrs = {"name": acc.name}
    for s in acc.getState().get_states():
        name = pyatspi.StateType._enum_lookup[s].split("_", 1)[1].lower()
        if name:
            attrs[q("st", name)] = "true"
    for k, v in acc.get_attributes().items():
        if k:
            attrs[q("attr", k)] = v
    if attrs.get(q("st", "visible")) == "true" and attrs.get(q("st", "showing")) == "true":
        try:
            comp = acc.queryComponent()
        except NotImplementedError:
            pass
        else:
            box = comp.getExtents(pyatspi.XY_SCREEN)
            attrs[q("cp", "screencoord")] = str(tuple(box[0:2]))
            attrs[q("cp", "size")] = str(tuple(box[2:]))
    text = ""
    try:
        t = acc.queryText()
        text = t.getText(0, t.characterCount).replace("\ufffc", "").replace("\ufffd", "")
    except NotImplementedError:
        pass
    try:
        acc.queryImage()
        attrs["image"] = "true"
    except NotImplementedError:
        pass
    try:
        acc.querySelection()
        attrs["selection"] = "true"
    except NotImplementedError:
        pass
    try:
        v = acc.queryValue()
        for key, get in (("value", lambda: v.currentValue), ("min", lambda: v.minimumValue),
                         ("max", lambda: v.maximumValue), ("step", lambda: v.minimumIncrement)):
            try:
                attrs[q("val", key)] = str(get())
            except Exception:
                pass
    except NotImplementedError:
        pass
    try:
        a = acc.queryAction()
        for i in range(a.nActions):
            name = a.getName(i).replace(" ", "-")
            attrs[q("act", name + "_desc")] = a.getDescription(i)
            attrs[q("act", name + "_kb")] = a.getKeyBinding(i)
    except NotImplementedError:
        pass
    role = acc.getRoleName().strip()
    el = etree.Element((role or "unknown").replace(" ", "-"), attrib=attrs, nsmap=NS)
    if text:
        el.text = text
    if depth == 50:
        return el
    for i, child in enumerate(acc):
        if i == 1024:
            break
        el.append(node_xml(child, depth + 1))
    return el


def walk(app_name=None):
    desktop = pyatspi.Registry.getDesktop(0)
    root = etree.Element("desktop-frame", nsmap=NS)
    for app in desktop:
        if app is None or (app_name and app.name != app_name):
            continue
        root.append(node_xml(app, 1))
    return root


def main():
    args = sys.argv[1:]
    app = args[args.index("--app") + 1] if "--app" in args else None
    if "--time" in args:
        runs = int(args[args.index("--time") + 1])
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            root = walk(app)
            times.append((time.perf_counter() - t0) * 1000)
        print(json.dumps({"ms": times, "elements": sum(1 for _ in root.iter()) - 1}))
        return
    print(etree.tostring(walk(app), encoding="unicode"))


if __name__ == "__main__":
    main()
