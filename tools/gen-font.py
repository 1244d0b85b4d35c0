#!/usr/bin/python3
"""Generate src/Imaging/FixedFont.g.cs from an X11 "misc-fixed" PCF font.

Usage (from the repository root, standard library only):
    /usr/bin/python3 tools/gen-font.py [FONT.pcf.gz] [OUTPUT.cs]

Defaults: /usr/share/fonts/X11/misc/9x15-ISO8859-1.pcf.gz (Debian's xfonts-base,
"-misc-fixed-medium-r-normal--15-140-75-75-c-90-iso8859-1", public domain) and
src/Imaging/FixedFont.g.cs.

The PCF reader follows the table layout described in X.Org's "The X Font Service
Protocol"/"PCF" notes: a table of contents, then per table a format word that says
byte order, bit order, row padding and scan unit for the data that follows.
Only the tables needed for a bitmap cell font are read: properties, accelerators,
metrics, bitmaps and encodings.
"""

import gzip
import os
import struct
import sys

PCF_PROPERTIES = 1 << 0
PCF_ACCELERATORS = 1 << 1
PCF_METRICS = 1 << 2
PCF_BITMAPS = 1 << 3
PCF_BDF_ENCODINGS = 1 << 5
PCF_BDF_ACCELERATORS = 1 << 8

PCF_FORMAT_MASK = 0xFFFFFF00
PCF_DEFAULT_FORMAT = 0x00000000
PCF_COMPRESSED_METRICS = 0x00000100
PCF_GLYPH_PAD_MASK = 3
PCF_BYTE_MASK = 1 << 2      # set: most significant byte first
PCF_BIT_MASK = 1 << 3       # set: most significant bit first
PCF_SCAN_UNIT_MASK = 3 << 4

FIRST_CHAR, LAST_CHAR = 32, 126


class Table:
    def __init__(self, data, offset):
        self.data = data
        self.pos = offset
        # The format word itself is always little-endian.
        (self.format,) = struct.unpack_from("<I", data, offset)
        self.pos += 4
        self.endian = ">" if self.format & PCF_BYTE_MASK else "<"

    def read(self, fmt):
        values = struct.unpack_from(self.endian + fmt, self.data, self.pos)
        self.pos += struct.calcsize(self.endian + fmt)
        return values if len(values) > 1 else values[0]


def read_toc(data):
    if data[:4] != b"\x01fcp":
        raise SystemExit("not a PCF file")
    (count,) = struct.unpack_from("<I", data, 4)
    tables = {}
    for i in range(count):
        kind, fmt, size, offset = struct.unpack_from("<IIII", data, 8 + 16 * i)
        tables[kind] = offset
    return tables


def read_properties(data, offset):
    t = Table(data, offset)
    count = t.read("i")
    raw = [t.read("iBi") for _ in range(count)]
    if count & 3:
        t.pos += 4 - (count & 3)
    string_size = t.read("i")
    strings = data[t.pos:t.pos + string_size]

    def string_at(o):
        return strings[o:strings.index(b"\0", o)].decode("latin-1")

    props = {}
    for name, is_string, value in raw:
        props[string_at(name)] = string_at(value) if is_string else value
    return props


def read_metric(t, compressed):
    if compressed:
        lsb, rsb, width, ascent, descent = (b - 0x80 for b in t.read("5B"))
    else:
        lsb, rsb, width, ascent, descent, _attrs = t.read("hhhhhH")
    return lsb, rsb, width, ascent, descent


def read_accelerators(data, offset):
    t = Table(data, offset)
    t.pos += 8  # noOverlap, constantMetrics, terminalFont, constantWidth, inkInside, inkMetrics, drawDirection, pad
    ascent, descent, _max_overlap = t.read("iii")
    return ascent, descent


def read_metrics(data, offset):
    t = Table(data, offset)
    compressed = (t.format & PCF_FORMAT_MASK) == PCF_COMPRESSED_METRICS
    count = t.read("h") if compressed else t.read("i")
    return [read_metric(t, compressed) for _ in range(count)]


def read_bitmaps(data, offset, metrics):
    t = Table(data, offset)
    count = t.read("i")
    offsets = [t.read("i") for _ in range(count)]
    sizes = [t.read("i") for _ in range(4)]
    pad_index = t.format & PCF_GLYPH_PAD_MASK
    base = t.pos
    blob = data[base:base + sizes[pad_index]]
    row_pad = 1 << pad_index
    scan_unit = 1 << ((t.format & PCF_SCAN_UNIT_MASK) >> 4)
    msb_byte = bool(t.format & PCF_BYTE_MASK)
    msb_bit = bool(t.format & PCF_BIT_MASK)

    glyphs = []
    for index, (lsb, rsb, _width, ascent, descent) in enumerate(metrics):
        w, h = rsb - lsb, ascent + descent
        stride = ((w + 7) // 8 + row_pad - 1) // row_pad * row_pad
        start = offsets[index]
        rows = []
        for y in range(h):
            row = bytearray(blob[start + y * stride:start + (y + 1) * stride])
            # When byte and bit order disagree the bytes of each scan unit are stored swapped.
            if msb_byte != msb_bit and scan_unit > 1:
                for u in range(0, len(row), scan_unit):
                    row[u:u + scan_unit] = row[u:u + scan_unit][::-1]
            bits = []
            for x in range(w):
                byte = row[x // 8]
                bit = (byte >> (7 - x % 8)) & 1 if msb_bit else (byte >> (x % 8)) & 1
                bits.append(bit)
            rows.append(bits)
        glyphs.append(rows)
    return glyphs


def read_encodings(data, offset):
    t = Table(data, offset)
    min2, max2, min1, max1, default = t.read("hhhhh")
    cols = max2 - min2 + 1
    count = cols * (max1 - min1 + 1)
    indices = [t.read("H") for _ in range(count)]

    def glyph_for(code):
        b1, b2 = code >> 8, code & 0xFF
        if not (min1 <= b1 <= max1 and min2 <= b2 <= max2):
            return None
        i = indices[(b1 - min1) * cols + (b2 - min2)]
        return None if i == 0xFFFF else i

    return glyph_for, default


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    source = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/fonts/X11/misc/9x15-ISO8859-1.pcf.gz"
    output = sys.argv[2] if len(sys.argv) > 2 else os.path.join(here, "..", "src", "Imaging", "FixedFont.g.cs")

    opener = gzip.open if source.endswith(".gz") else open
    with opener(source, "rb") as f:
        data = f.read()
    toc = read_toc(data)
    props = read_properties(data, toc[PCF_PROPERTIES])
    ascent, descent = read_accelerators(data, toc.get(PCF_BDF_ACCELERATORS, toc[PCF_ACCELERATORS]))
    metrics = read_metrics(data, toc[PCF_METRICS])
    bitmaps = read_bitmaps(data, toc[PCF_BITMAPS], metrics)
    glyph_for, _default = read_encodings(data, toc[PCF_BDF_ENCODINGS])

    advances = {metrics[glyph_for(c)][2] for c in range(FIRST_CHAR, LAST_CHAR + 1)}
    if len(advances) != 1:
        raise SystemExit(f"not a fixed-width font: advances {sorted(advances)}")
    cell_width, cell_height = advances.pop(), ascent + descent
    if cell_width > 16:
        raise SystemExit("cells wider than 16 pixels do not fit the ushort rows")

    rows_out = []
    for code in range(FIRST_CHAR, LAST_CHAR + 1):
        index = glyph_for(code)
        lsb, rsb, _w, g_ascent, _g_descent = metrics[index]
        cell = [0] * cell_height
        for gy, bits in enumerate(bitmaps[index]):
            cy = ascent - g_ascent + gy
            for gx, bit in enumerate(bits):
                cx = lsb + gx
                if bit and 0 <= cy < cell_height and 0 <= cx < cell_width:
                    cell[cy] |= 0x8000 >> cx
        rows_out.append((code, cell))

    font_name = props.get("FONT", os.path.basename(source))
    copyright_note = props.get("COPYRIGHT", "")
    lines = [
        "// <auto-generated>",
        "// Generated by tools/gen-font.py from " + os.path.basename(source) + " (Debian xfonts-base):",
        "//   " + font_name,
        "// Regenerate from the repository root with: /usr/bin/python3 tools/gen-font.py",
        "// Licence: the misc-fixed fonts are in the public domain (\"Public domain font.  Share and enjoy.\").",
    ]
    if copyright_note:
        lines.append("// Font COPYRIGHT property: " + copyright_note)
    lines += [
        "// </auto-generated>",
        "",
        "namespace Sandbox.Imaging;",
        "",
        "internal static partial class FixedFont",
        "{",
        f"    public const int CellWidth = {cell_width};",
        f"    public const int CellHeight = {cell_height};",
        f"    public const int Ascent = {ascent};",
        f"    public const char FirstChar = (char){FIRST_CHAR};",
        f"    public const char LastChar = (char){LAST_CHAR};",
        "",
        "    /// <summary>CellHeight rows per glyph from FirstChar on; bit 15 is the leftmost pixel.</summary>",
        "    public static ReadOnlySpan<ushort> Rows => new ushort[]",
        "    {",
    ]
    for code, cell in rows_out:
        shown = chr(code) if code != 0x5C else "backslash"
        lines.append("        " + ", ".join(f"0x{r:04X}" for r in cell) + f",  // {code} '{shown}'")
    lines += ["    };", "}", ""]

    with open(output, "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(lines))
    print(f"wrote {output}: {font_name}, cell {cell_width}x{cell_height}, ascent {ascent}")


if __name__ == "__main__":
    main()
