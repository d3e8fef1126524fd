"""Hand-made PNG bytes for bad-input tests: headers that lie about their size, decompression bombs."""
from __future__ import annotations

import struct
import zlib


def png_chunk(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk: length, type, data, CRC."""
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bytes(width: int, height: int, bit_depth: int = 8, colour: int = 2, idat: bytes = b"") -> bytes:
    """A PNG whose header claims ``width`` x ``height``; pixel data only if ``idat`` is given."""
    header = struct.pack(">IIBBBBB", width, height, bit_depth, colour, 0, 0, 0)
    body = png_chunk(b"IHDR", header) + (png_chunk(b"IDAT", idat) if idat else b"") + png_chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + body


def png_bomb(width: int, height: int) -> bytes:
    """A black 1-bit PNG: a few kilobytes that decode to width x height pixels."""
    row = b"\x00" + bytes((width + 7) // 8)
    compressor = zlib.compressobj(9)
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    return png_bytes(width, height, bit_depth=1, colour=0, idat=idat)
