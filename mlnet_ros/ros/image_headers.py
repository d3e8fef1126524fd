"""Width and height of a compressed image read from its header, without decoding any pixel.

Formats are recognised by their signature, not by the message's ``format`` field: PNG (IHDR),
JPEG (SOFn), WebP (VP8, VP8L, VP8X), BMP, TIFF (first IFD), GIF, PNM (P1-P6) and Sun raster.
OpenCV also reads JPEG 2000, OpenEXR, Radiance HDR, PAM and PFM: those are refused (UnsizedImage).
Reads a bounded number of bytes whatever the data; never raises anything but UnsizedImage.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass

# JPEG start-of-frame markers (baseline, progressive, lossless, arithmetic): not DHT C4, JPG C8,
# DAC CC.
_JPEG_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
# Markers without a length field: TEM, RSTn, SOI.
_JPEG_STANDALONE = {0x01, *range(0xD0, 0xD9)}
_JPEG_MAX_SEGMENTS = 1000  # a header with more segments before its frame is refused
_PNM = re.compile(rb"P([1-6])(?:\s+|#[^\n]*\n)*(\d+)(?:\s+|#[^\n]*\n)+(\d+)")


class UnsizedImage(ValueError):
    """The size cannot be read: ``reason`` is unsupported_format or bad_header."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class ImageHeader:
    format: str  # png, jpeg, webp, bmp, tiff, gif, pnm or sunras
    width: int
    height: int


def read_header(data: bytes | memoryview) -> ImageHeader:
    """The format and size stated by the header of the encoded image ``data``."""
    data = memoryview(data)
    head = bytes(data[:16])
    try:
        if head.startswith(b"\x89PNG\r\n\x1a\n"):
            return _png(data)
        if head.startswith(b"\xff\xd8"):
            return _jpeg(data)
        if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
            return _webp(data)
        if head.startswith(b"BM"):
            return _bmp(data)
        if head.startswith((b"II*\x00", b"MM\x00*")):
            return _tiff(data)
        if head.startswith((b"GIF87a", b"GIF89a")):
            width, height = struct.unpack_from("<HH", data, 6)
            return ImageHeader("gif", width, height)
        if head.startswith(b"\x59\xa6\x6a\x95"):
            width, height = struct.unpack_from(">II", data, 4)
            return ImageHeader("sunras", width, height)
        if re.match(rb"P[1-6]\s", head):
            return _pnm(data)
    except (struct.error, IndexError):
        raise UnsizedImage("bad_header", "image header is truncated") from None
    raise UnsizedImage(
        "unsupported_format",
        f"unsupported compressed format (signature {head[:8].hex(' ') or 'empty'}; "
        "sized formats: png, jpeg, webp, bmp, tiff, gif, pnm, sun raster)",
    )


def _png(data: memoryview) -> ImageHeader:
    if bytes(data[12:16]) != b"IHDR":
        raise UnsizedImage("bad_header", "PNG without an IHDR chunk first")
    width, height = struct.unpack_from(">II", data, 16)
    return ImageHeader("png", width, height)


def _jpeg(data: memoryview) -> ImageHeader:
    position = 2
    for _ in range(_JPEG_MAX_SEGMENTS):
        if data[position] != 0xFF:
            raise UnsizedImage("bad_header", f"JPEG: no marker at byte {position}")
        while data[position] == 0xFF:  # fill bytes
            position += 1
        marker = data[position]
        position += 1
        if marker in _JPEG_STANDALONE:
            continue
        if marker in (0xD9, 0xDA):
            raise UnsizedImage("bad_header", "JPEG: no frame header before the image data")
        if marker in _JPEG_SOF:
            height, width = struct.unpack_from(">HH", data, position + 3)
            if height == 0:  # height given later by a DNL marker: cannot be sized up front
                raise UnsizedImage("unsupported_format", "JPEG with its height in a DNL marker")
            return ImageHeader("jpeg", width, height)
        (length,) = struct.unpack_from(">H", data, position)
        if length < 2:
            raise UnsizedImage("bad_header", f"JPEG: segment length {length} at byte {position}")
        position += length
    raise UnsizedImage("bad_header", f"JPEG: no frame header in {_JPEG_MAX_SEGMENTS} segments")


def _webp(data: memoryview) -> ImageHeader:
    chunk = bytes(data[12:16])
    if chunk == b"VP8 ":
        if bytes(data[23:26]) != b"\x9d\x01\x2a":
            raise UnsizedImage("bad_header", "WebP VP8: no key frame start code")
        width, height = struct.unpack_from("<HH", data, 26)
        return ImageHeader("webp", width & 0x3FFF, height & 0x3FFF)
    if chunk == b"VP8L":
        if data[20] != 0x2F:
            raise UnsizedImage("bad_header", "WebP VP8L: bad signature")
        (bits,) = struct.unpack_from("<I", data, 21)
        return ImageHeader("webp", (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
    if chunk == b"VP8X":
        canvas = bytes(data[24:30])
        if len(canvas) < 6:
            raise struct.error
        width = int.from_bytes(canvas[:3], "little") + 1
        height = int.from_bytes(canvas[3:], "little") + 1
        return ImageHeader("webp", width, height)
    raise UnsizedImage("bad_header", f"WebP: unknown first chunk {chunk!r}")


def _bmp(data: memoryview) -> ImageHeader:
    (dib_size,) = struct.unpack_from("<I", data, 14)
    if dib_size == 12:  # OS/2 BITMAPCOREHEADER
        width, height = struct.unpack_from("<HH", data, 18)
    else:
        width, height = struct.unpack_from("<ii", data, 18)
    return ImageHeader("bmp", abs(width), abs(height))  # negative height: top-down rows


def _tiff(data: memoryview) -> ImageHeader:
    order = "<" if bytes(data[:2]) == b"II" else ">"
    (offset,) = struct.unpack_from(order + "I", data, 4)
    (count,) = struct.unpack_from(order + "H", data, offset)
    size = {}
    for index in range(count):
        tag, kind, _, value = struct.unpack_from(order + "HHI4s", data, offset + 2 + 12 * index)
        if tag in (256, 257):  # ImageWidth, ImageLength: SHORT (3) or LONG (4)
            if kind not in (3, 4):
                raise UnsizedImage("bad_header", f"TIFF: size tag {tag} of type {kind}")
            size[tag] = struct.unpack_from(order + ("H" if kind == 3 else "I"), value)[0]
        if len(size) == 2:
            return ImageHeader("tiff", size[256], size[257])
    raise UnsizedImage("bad_header", "TIFF: no ImageWidth and ImageLength in the first IFD")


def _pnm(data: memoryview) -> ImageHeader:
    match = _PNM.match(bytes(data[:1024]))
    if match is None:
        raise UnsizedImage("bad_header", "PNM: no width and height in the first 1024 bytes")
    return ImageHeader("pnm", int(match.group(2)), int(match.group(3)))
