"""sensor_msgs/Image <-> RGB numpy conversions: encodings, padded rows, byte order, rejections."""

import array

import cv2
import numpy as np
import pytest
from sensor_msgs.msg import CompressedImage, Image

from mlnet_ros.inference.encoded_image import MAX_PIXELS, fit_within
from mlnet_ros.ros.image_msgs import ImageConversionError, compressed_to_rgb, image_to_rgb, rgb_to_image

RGB = np.random.default_rng(0).integers(0, 256, size=(5, 7, 3), dtype=np.uint8)


def make_image(
    pixels: np.ndarray, encoding: str, padding: int = 0, bigendian: bool = False
) -> Image:
    """Raw message with ``padding`` extra bytes at the end of each row."""
    height, width = pixels.shape[:2]
    if pixels.dtype == np.uint16:
        pixels = pixels.astype(">u2" if bigendian else "<u2")
    rows = np.ascontiguousarray(pixels).view(np.uint8).reshape(height, -1)
    padded = np.zeros((height, rows.shape[1] + padding), np.uint8)
    padded[:, : rows.shape[1]] = rows
    msg = Image(height=height, width=width, encoding=encoding, is_bigendian=int(bigendian))
    msg.step = padded.shape[1]
    msg.data = array.array("B", padded.tobytes())
    return msg


@pytest.mark.parametrize("padding", [0, 3])
@pytest.mark.parametrize(
    "encoding, pixels",
    [
        ("rgb8", RGB),
        ("bgr8", RGB[:, :, ::-1]),
        ("rgba8", np.dstack([RGB, np.full(RGB.shape[:2], 9, np.uint8)])),
        ("bgra8", np.dstack([RGB[:, :, ::-1], np.full(RGB.shape[:2], 9, np.uint8)])),
    ],
)
def test_colour_encodings_give_rgb(encoding, pixels, padding):
    rgb = image_to_rgb(make_image(np.ascontiguousarray(pixels), encoding, padding))
    assert rgb.dtype == np.uint8 and rgb.flags.c_contiguous
    np.testing.assert_array_equal(rgb, RGB)


@pytest.mark.parametrize("padding", [0, 2])
def test_mono8_is_replicated_to_three_channels(padding):
    gray = RGB[:, :, 0]
    rgb = image_to_rgb(make_image(np.ascontiguousarray(gray[:, :, None]), "mono8", padding))
    np.testing.assert_array_equal(rgb, np.dstack([gray, gray, gray]))


@pytest.mark.parametrize("bigendian", [False, True])
def test_mono16_honours_byte_order(bigendian):
    values = (RGB[:, :, 0].astype(np.uint16) << 8) | 0x7F
    rgb = image_to_rgb(make_image(values, "mono16", padding=2, bigendian=bigendian))
    np.testing.assert_array_equal(rgb[:, :, 1], RGB[:, :, 0])


def test_round_trip_keeps_pixels_and_header():
    msg = rgb_to_image(RGB, frame_id="camera")
    assert (msg.encoding, msg.width, msg.height, msg.step) == ("rgb8", 7, 5, 21)
    assert msg.header.frame_id == "camera"
    np.testing.assert_array_equal(image_to_rgb(msg), RGB)


def test_rgb_to_image_rejects_non_rgb_arrays():
    with pytest.raises(ValueError):
        rgb_to_image(RGB[:, :, 0])


@pytest.mark.parametrize(
    "change, reason",
    [
        ({"encoding": "yuv422"}, "unsupported_encoding"),
        ({"encoding": "32FC1"}, "unsupported_encoding"),
        ({"width": 0}, "empty_image"),
        ({"height": 0}, "empty_image"),
        ({"step": 20}, "bad_step"),
        ({"data": array.array("B", bytes(104))}, "bad_data_length"),
        ({"width": 7681, "height": 4320, "step": 7681 * 3}, "image_too_large"),
    ],
)
def test_bad_images_are_rejected_with_a_reason(change, reason):
    msg = make_image(RGB, "rgb8")
    for field, value in change.items():
        setattr(msg, field, value)
    with pytest.raises(ImageConversionError) as raised:
        image_to_rgb(msg)
    assert raised.value.reason == reason
    assert str(raised.value)


def test_8k_frame_is_accepted():
    msg = Image(height=4320, width=7680, encoding="mono8", step=7680)
    msg.data = array.array("B", bytes(MAX_PIXELS))
    assert image_to_rgb(msg).shape == (4320, 7680, 3)


def test_compressed_png_decodes_to_rgb_and_garbage_is_rejected():
    ok, png = cv2.imencode(".png", np.ascontiguousarray(RGB[:, :, ::-1]))
    assert ok
    msg = CompressedImage(format="png")
    msg.data = array.array("B", png.tobytes())
    np.testing.assert_array_equal(compressed_to_rgb(msg), RGB)
    msg.data = array.array("B", b"not an image")
    with pytest.raises(ImageConversionError, match="cannot decode"):
        compressed_to_rgb(msg)


def test_fit_within_downscales_long_side_and_reports_scale():
    big = np.zeros((4320, 7680, 3), np.uint8)
    small, scale = fit_within(big, 1280)
    assert small.shape == (720, 1280, 3) and scale == pytest.approx(6.0)
    same, scale = fit_within(RGB, 1280)
    assert same is RGB and scale == 1.0
