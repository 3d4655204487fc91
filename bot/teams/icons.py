"""The Teams app's two icons, drawn in code so that no binary file is committed and every run
gives the same bytes: a shield with an "I" (Itaku) on the accent colour (color.png, 192×192) and
the same mark in white on transparent (outline.png, 32×32). PNGs are written with zlib and
struct alone; edges are anti-aliased by sampling each pixel on a grid."""

from __future__ import annotations

import math
import struct
import zlib
from collections.abc import Callable
from functools import lru_cache

COLOR_SIZE = 192
OUTLINE_SIZE = 32
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

Shape = Callable[[float, float], bool]  # (x, y) in the unit square, y downwards


def _shield(top: float, shoulder: float, bottom: float, half_width: float) -> Shape:
    """Straight sides from `top` to `shoulder`, then an elliptic curve to a point at `bottom`."""

    def inside(x: float, y: float) -> bool:
        if y < top or y > bottom:
            return False
        if y <= shoulder:
            reach = half_width
        else:
            t = (y - shoulder) / (bottom - shoulder)
            reach = half_width * math.sqrt(max(0.0, 1.0 - t * t))
        return abs(x - 0.5) <= reach

    return inside


def _box(x0: float, y0: float, x1: float, y1: float) -> Shape:
    return lambda x, y: x0 <= x <= x1 and y0 <= y <= y1


def _mark(stroke: float) -> Shape:
    """The Itaku mark in the unit square: a shield's outline (`stroke` thick) around a serif I."""
    outer = _shield(0.06, 0.50, 0.96, 0.40)
    inner = _shield(0.06 + stroke, 0.50, 0.96 - stroke * 1.6, 0.40 - stroke)
    letter = (
        _box(0.455, 0.27, 0.545, 0.69),  # stem
        _box(0.37, 0.25, 0.63, 0.33),  # top serif
        _box(0.37, 0.63, 0.63, 0.71),  # bottom serif
    )
    return lambda x, y: (outer(x, y) and not inner(x, y)) or any(p(x, y) for p in letter)


def _coverage(shape: Shape, size: int, margin: float, samples: int = 4) -> list[list[float]]:
    """The share of each pixel that the shape covers, the shape filling the square less `margin`
    (a fraction of the side) on every edge."""
    span = 1.0 - 2 * margin
    step = 1.0 / samples
    offsets = [(i + 0.5) * step for i in range(samples)]
    total = samples * samples
    rows: list[list[float]] = []
    for py in range(size):
        row: list[float] = []
        for px in range(size):
            hits = 0
            for oy in offsets:
                y = ((py + oy) / size - margin) / span
                for ox in offsets:
                    if shape(((px + ox) / size - margin) / span, y):
                        hits += 1
            row.append(hits / total)
        rows.append(row)
    return rows


def _chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def encode_png(width: int, height: int, rgba_rows: list[bytes]) -> bytes:
    """An 8-bit RGBA PNG from rows of width×4 bytes (filter type 0 on every row)."""
    if len(rgba_rows) != height or any(len(r) != width * 4 for r in rgba_rows):
        raise ValueError("rows do not match the size")
    raw = b"".join(b"\x00" + r for r in rgba_rows)
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        PNG_SIGNATURE
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(raw, 9))
        + _chunk(b"IEND", b"")
    )


def _hex_rgb(color: str) -> tuple[int, int, int]:
    value = color.lstrip("#")
    if len(value) != 6:
        raise ValueError(f"not a #RRGGBB colour: {color!r}")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


@lru_cache(maxsize=8)
def color_icon(accent: str) -> bytes:
    """192×192, opaque: the white mark on the accent colour, with the padding Teams asks for."""
    bg = _hex_rgb(accent)
    rows = []
    for row in _coverage(_mark(0.085), COLOR_SIZE, margin=0.2):
        line = bytearray()
        for a in row:
            line += bytes(round(c + (255 - c) * a) for c in bg) + b"\xff"
        rows.append(bytes(line))
    return encode_png(COLOR_SIZE, COLOR_SIZE, rows)


@lru_cache(maxsize=1)
def outline_icon() -> bytes:
    """32×32: the mark in white, everything else transparent (Teams' rule for outline icons)."""
    rows = []
    for row in _coverage(_mark(0.12), OUTLINE_SIZE, margin=0.04):
        line = bytearray()
        for a in row:
            line += b"\xff\xff\xff" + bytes((round(255 * a),))
        rows.append(bytes(line))
    return encode_png(OUTLINE_SIZE, OUTLINE_SIZE, rows)
