"""Conversions between sensor_msgs images and RGB numpy arrays, without cv_bridge.

Accepted raw encodings: rgb8, bgr8, mono8, rgba8, bgra8 and mono16 (the only one where
``is_bigendian`` matters; scaled to 8 bits). Rows may be padded (``step`` > width x bytes per
pixel). Frames above ``MAX_PIXELS`` (8K UHD, 7680 x 4320 = 33.2 Mpx, any aspect ratio) are
rejected before their data is touched; compressed ones by the size in their header, before any
decoding. Large compressed frames are decoded at a reduced resolution (JPEG: in the DCT).
"""

from __future__ import annotations

import array

import cv2
import numpy as np
from builtin_interfaces.msg import Time
from sensor_msgs.msg import CompressedImage, Image

from mlnet_ros.inference.encoded_image import MAX_PIXELS
from mlnet_ros.ros.decoder_stderr import decoder_stderr
from mlnet_ros.ros.image_headers import ImageHeader, UnsizedImage, read_header

# encoding -> (bytes per pixel, channels)
_LAYOUTS = {
    "rgb8": (3, 3),
    "bgr8": (3, 3),
    "rgba8": (4, 4),
    "bgra8": (4, 4),
    "mono8": (1, 1),
    "mono16": (2, 1),
}
SUPPORTED_ENCODINGS = tuple(_LAYOUTS)
# Decoding at 1/factor of the size: factor -> imdecode flags.
_REDUCED_READS = {
    1: cv2.IMREAD_COLOR,
    2: cv2.IMREAD_REDUCED_COLOR_2,
    4: cv2.IMREAD_REDUCED_COLOR_4,
    8: cv2.IMREAD_REDUCED_COLOR_8,
}


class ImageConversionError(ValueError):
    """The message cannot be turned into an RGB image; the text says why, ``reason`` is a short
    code for counters: unsupported_encoding, empty_image, image_too_large, bad_step,
    bad_data_length; for compressed frames also unsupported_format, bad_header,
    undecodable_image and corrupt_image (decoded, but the decoder reported damage)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def check_image(msg: Image) -> None:
    """Validate the layout of a raw image without reading its pixels (constant time)."""
    if msg.encoding not in _LAYOUTS:
        raise ImageConversionError(
            "unsupported_encoding",
            f"unsupported encoding {msg.encoding!r} (supported: {', '.join(SUPPORTED_ENCODINGS)})",
        )
    if msg.width == 0 or msg.height == 0:
        raise ImageConversionError("empty_image", f"empty image ({msg.width}x{msg.height})")
    if msg.width * msg.height > MAX_PIXELS:
        raise ImageConversionError(
            "image_too_large",
            f"image {msg.width}x{msg.height} is larger than the 7680x4320 (8K) pixel limit",
        )
    row_bytes = msg.width * _LAYOUTS[msg.encoding][0]
    if msg.step < row_bytes:
        raise ImageConversionError(
            "bad_step", f"step {msg.step} is smaller than width x bytes per pixel ({row_bytes})"
        )
    if len(msg.data) != msg.step * msg.height:
        raise ImageConversionError(
            "bad_data_length",
            f"data has {len(msg.data)} bytes, expected step x height = {msg.step * msg.height}",
        )


def image_to_rgb(msg: Image) -> np.ndarray:
    """Return the image as a C-contiguous (height, width, 3) uint8 RGB array."""
    check_image(msg)
    bytes_per_pixel, channels = _LAYOUTS[msg.encoding]
    rows = np.frombuffer(msg.data, dtype=np.uint8).reshape(msg.height, msg.step)
    pixels = rows[:, : msg.width * bytes_per_pixel]
    if msg.encoding == "mono16":
        dtype = np.dtype(">u2" if msg.is_bigendian else "<u2")
        gray = (np.ascontiguousarray(pixels).view(dtype) >> 8).astype(np.uint8)
        return np.ascontiguousarray(np.repeat(gray[:, :, None], 3, axis=2))
    pixels = pixels.reshape(msg.height, msg.width, channels)
    if msg.encoding == "mono8":
        return np.ascontiguousarray(np.repeat(pixels, 3, axis=2))
    if msg.encoding in ("bgr8", "bgra8"):
        return np.ascontiguousarray(pixels[:, :, 2::-1])
    return np.ascontiguousarray(pixels[:, :, :3])


def check_compressed(msg: CompressedImage) -> ImageHeader:
    """Validate a compressed frame by its header alone (no pixel is decoded); return it."""
    if len(msg.data) == 0:
        raise ImageConversionError("empty_image", "compressed image has no data")
    try:
        header = read_header(memoryview(msg.data))
    except UnsizedImage as error:
        raise ImageConversionError(error.reason, str(error)) from None
    if header.width == 0 or header.height == 0:
        raise ImageConversionError(
            "empty_image", f"{header.format} header says {header.width}x{header.height}"
        )
    if header.width * header.height > MAX_PIXELS:
        raise ImageConversionError(
            "image_too_large",
            f"{header.format} header says {header.width}x{header.height}, larger than the "
            "7680x4320 (8K) pixel limit",
        )
    return header


def reduction(header: ImageHeader, min_side: int) -> int:
    """The largest decoding reduction (1, 2, 4 or 8) that keeps the longer side >= min_side."""
    longer = max(header.width, header.height)
    return next((f for f in (8, 4, 2) if longer // f >= min_side > 0), 1)


def compressed_to_rgb(msg: CompressedImage, min_side: int = 0) -> np.ndarray:
    """Decode a CompressedImage (png, jpeg, webp, bmp, tiff, ...: see image_headers) to RGB.

    With ``min_side`` > 0 a large frame is decoded at 1/2, 1/4 or 1/8 of its size, as long as
    its longer side stays >= ``min_side``. Any decoder failure or complaint is an
    ImageConversionError, and what the decoder printed ends up in its message, not on stderr.
    """
    header = check_compressed(msg)
    failure = ""
    with decoder_stderr() as complaints:
        try:
            bgr = cv2.imdecode(
                np.frombuffer(msg.data, dtype=np.uint8),
                _REDUCED_READS[reduction(header, min_side)],
            )
        except cv2.error as error:
            bgr, failure = None, " ".join(str(error).split())
    said = "; ".join(line for line in complaints if line.strip())[:300]
    if bgr is None:
        raise ImageConversionError(
            "undecodable_image",
            f"cannot decode compressed image ({header.format} {header.width}x{header.height}, "
            f"format field {msg.format!r}): {failure or said or 'the decoder gave no image'}",
        )
    if said:
        raise ImageConversionError(
            "corrupt_image", f"damaged {header.format} image, the decoder said: {said}"
        )
    height, width = bgr.shape[:2]
    if width * height > MAX_PIXELS:  # the decoder found more pixels than the header said
        raise ImageConversionError(
            "image_too_large",
            f"image {width}x{height} is larger than the 7680x4320 (8K) pixel limit",
        )
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def rgb_to_image(rgb: np.ndarray, stamp: Time | None = None, frame_id: str = "") -> Image:
    """Wrap a (height, width, 3) uint8 RGB array in an rgb8 sensor_msgs/Image."""
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"expected a (height, width, 3) uint8 array, got {rgb.shape} {rgb.dtype}")
    msg = Image()
    if stamp is not None:
        msg.header.stamp = stamp
    msg.header.frame_id = frame_id
    msg.height, msg.width = rgb.shape[:2]
    msg.encoding = "rgb8"
    msg.is_bigendian = 0
    msg.step = rgb.shape[1] * 3
    msg.data = array.array("B", np.ascontiguousarray(rgb).tobytes())
    return msg
