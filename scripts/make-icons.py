#!/usr/bin/env python3
"""Draws Tidemark's app icons with the standard library only (no downloads, no image tools).

The mark: a deep-blue rounded square with two tide lines and a high-water tick, the idea of a
"tidemark" -- the line that shows how far the water came. Writes 8-bit RGBA PNGs at the sizes
Tauri's Linux bundle wants, plus icon.png (512 px). Deterministic: same bytes on every run.
"""
import math
import os
import struct
import sys
import zlib

SIZES = {"32x32.png": 32, "128x128.png": 128, "128x128@2x.png": 256, "icon.png": 512}
BG = (18, 42, 74)
WAVE = (94, 196, 214)
MARK = (240, 244, 248)


def coverage_rounded_square(x, y, n, r):
    # Signed distance to a rounded square inset by 4 % of the size.
    inset = n * 0.04
    cx = min(max(x, inset + r), n - inset - r)
    cy = min(max(y, inset + r), n - inset - r)
    d = math.hypot(x - cx, y - cy) - r
    return min(max(0.5 - d, 0.0), 1.0)


def wave_distance(x, y, n, base, amp, phase):
    t = x / n
    wy = n * (base + amp * math.sin(2 * math.pi * (t * 1.25 + phase)))
    slope = n * amp * 2 * math.pi * 1.25 / n * math.cos(2 * math.pi * (t * 1.25 + phase))
    return abs(y - wy) / math.sqrt(1 + slope * slope)


def pixel(x, y, n):
    px, py = x + 0.5, y + 0.5
    a = coverage_rounded_square(px, py, n, n * 0.2)
    if a <= 0:
        return (0, 0, 0, 0)
    col = list(BG)
    stroke = max(n * 0.055, 1.2)
    for base, amp, phase, c in ((0.58, 0.06, 0.0, WAVE), (0.74, 0.05, 0.35, WAVE)):
        d = wave_distance(px, py, n, base, amp, phase)
        w = min(max(stroke / 2 + 0.5 - d, 0.0), 1.0)
        col = [round(col[i] * (1 - w) + c[i] * w) for i in range(3)]
    # High-water tick: a short bright bar above the waves.
    bx0, bx1, by = n * 0.30, n * 0.70, n * 0.33
    if bx0 <= px <= bx1:
        d = abs(py - by)
        w = min(max(stroke / 2 + 0.5 - d, 0.0), 1.0)
        col = [round(col[i] * (1 - w) + MARK[i] * w) for i in range(3)]
    return (col[0], col[1], col[2], round(255 * a))


def png(n):
    rows = []
    for y in range(n):
        row = bytearray([0])
        for x in range(n):
            row.extend(pixel(x, y, n))
        rows.append(bytes(row))
    raw = b"".join(rows)

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", n, n, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "icons")
    os.makedirs(out, exist_ok=True)
    for name, n in SIZES.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(png(n))
        print(f"wrote {os.path.join(out, name)} ({n}x{n})")


if __name__ == "__main__":
    main()
