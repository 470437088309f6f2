#!/usr/bin/env python3
"""png-check.py FILE [X,Y ...]: decode a PNG with nothing but Python's
zlib, independently of the library that wrote it: the signature, every
chunk's CRC, IHDR, the IDAT stream inflated and unfiltered row by row.
Prints "WIDTHxHEIGHT", then "R,G,B" of each pixel asked for.  Exit 1,
with the reason, on anything a PNG decoder would refuse.  8-bit RGB and
RGBA only (what cairo and gnuplot's pngcairo write)."""
import struct
import sys
import zlib


def fail(why):
    print(f"png-check: {sys.argv[1]}: {why}", file=sys.stderr)
    sys.exit(1)


def chunks(data):
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        fail("no PNG signature")
    pos = 8
    while pos < len(data):
        if pos + 12 > len(data):
            fail("truncated chunk")
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        crc, = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        if len(body) != length or zlib.crc32(kind + body) != crc:
            fail(f"bad CRC in {kind!r}")
        yield kind, body
        pos += 12 + length
        if kind == b"IEND":
            return
    fail("no IEND")


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else b if pb <= pc else c


def unfilter(raw, width, height, bpp):
    stride = width * bpp
    rows, prev, pos = [], bytearray(stride), 0
    for _ in range(height):
        kind, line = raw[pos], bytearray(raw[pos + 1:pos + 1 + stride])
        pos += 1 + stride
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + a) & 255
            elif kind == 2:
                line[i] = (line[i] + b) & 255
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif kind == 4:
                line[i] = (line[i] + paeth(a, b, c)) & 255
            elif kind != 0:
                fail(f"unknown filter {kind}")
        rows.append(line)
        prev = line
    if pos != len(raw):
        fail("image data longer than the image")
    return rows


def main():
    data = open(sys.argv[1], "rb").read()
    ihdr, idat = None, b""
    for kind, body in chunks(data):
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
    if not ihdr:
        fail("no IHDR")
    width, height, depth, colour, _, _, interlace = ihdr
    if depth != 8 or colour not in (2, 6) or interlace:
        fail(f"not 8-bit RGB(A) without interlace: {ihdr}")
    bpp = 3 if colour == 2 else 4
    try:
        raw = zlib.decompress(idat)
    except zlib.error as e:
        fail(f"image data does not inflate: {e}")
    if len(raw) != height * (1 + width * bpp):
        fail("image data of the wrong length")
    rows = unfilter(raw, width, height, bpp)
    print(f"{width}x{height}")
    for xy in sys.argv[2:]:
        x, y = map(int, xy.split(","))
        print(",".join(str(v) for v in rows[y][x * bpp:x * bpp + 3]))


main()
