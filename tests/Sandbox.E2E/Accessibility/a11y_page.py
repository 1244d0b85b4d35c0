#!/usr/bin/python3
"""Writes the known page of the Chromium accessibility test and benchmark: a heading, then GROUPS
sections ("Group i", a landmark each) of a heading "Heading i", a link "Link i", a button "Button i",
a text input "Input i" (value "Value i") and a checkbox "Check i". In Chromium's AT-SPI tree the
document has 3 + 8 * GROUPS elements (headings and links carry a text child); 250 groups give 2,003.

  a11y_page.py OUT.html [GROUPS]
"""
import sys


def page(groups):
    parts = ['<!doctype html><html lang="en"><head><meta charset="utf-8"><title>A11y Page</title></head><body>',
             "<h1>A11y Page</h1>"]
    for i in range(groups):
        parts.append(f'<section aria-label="Group {i}"><h2>Heading {i}</h2><a href="#l{i}">Link {i}</a>'
                     f'<button type="button">Button {i}</button>'
                     f'<input type="text" aria-label="Input {i}" value="Value {i}">'
                     f'<input type="checkbox" aria-label="Check {i}"></section>')
    parts.append("</body></html>")
    return "".join(parts)


if __name__ == "__main__":
    with open(sys.argv[1], "w", encoding="utf-8") as f:
        f.write(page(int(sys.argv[2]) if len(sys.argv) > 2 else 250))
