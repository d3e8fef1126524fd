"""sensor_msgs/Image <-> RGB numpy conversions: encodings, padded rows, byte order, rejections."""

import array
import struct

import cv2
import numpy as np
import pytest
from sensor_msgs.msg import CompressedImage, Image
from support.crafted_images import png_bomb, png_bytes

from mlnet_ros.inference.encoded_image import MAX_PIXELS, fit_within
from mlnet_ros.ros.image_headers import ImageHeader, read_header
from mlnet_ros.ros.image_msgs import (
    ImageConversionError,
    check_compressed,
    compressed_to_rgb,
    image_to_rgb,
    reduction,
    rgb_to_image,
)

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
    with pytest.raises(ImageConversionError, match="unsupported compressed format"):
        compressed_to_rgb(msg)


def test_fit_within_downscales_long_side_and_reports_scale():
    big = np.zeros((4320, 7680, 3), np.uint8)
    small, scale = fit_within(big, 1280)
    assert small.shape == (720, 1280, 3) and scale == pytest.approx(6.0)
    same, scale = fit_within(RGB, 1280)
    assert same is RGB and scale == 1.0


# -- compressed frames: sized from their header, decoded at a bounded cost ---------------------


def compressed(data: bytes, fmt: str = "jpeg") -> CompressedImage:
    msg = CompressedImage(format=fmt)
    msg.data = array.array("B", data)
    return msg


BGR = np.ascontiguousarray(np.random.default_rng(1).integers(0, 256, (30, 50, 3), np.uint8))


@pytest.mark.parametrize(
    "extension, name",
    [(".png", "png"), (".jpg", "jpeg"), (".webp", "webp"), (".bmp", "bmp"), (".tiff", "tiff"),
     (".ppm", "pnm"), (".pbm", "pnm"), (".ras", "sunras"), (".gif", "gif")],
)
def test_header_gives_the_size_of_every_sized_format(extension, name):
    pixels = BGR[:, :, 0] if extension == ".pbm" else BGR
    ok, encoded = cv2.imencode(extension, pixels)
    assert ok
    assert read_header(encoded.tobytes()) == ImageHeader(name, 50, 30)
    assert compressed_to_rgb(compressed(encoded.tobytes())).shape == (30, 50, 3)


@pytest.mark.parametrize(
    "data, reason",
    [
        (b"", "empty_image"),
        (b"not an image", "unsupported_format"),
        (np.random.default_rng(2).bytes(4000), "unsupported_format"),
        (b"\x00\x00\x00\x0cjP  \r\n\x87\n" + bytes(64), "unsupported_format"),  # JPEG 2000
        (png_bytes(100_000, 100_000), "image_too_large"),  # 45 bytes, impossible header
        (png_bomb(20_000, 20_000), "image_too_large"),  # 48 KB, 400 Mpx
        (png_bytes(0, 10), "empty_image"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "bad_header"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "bad_header"),  # truncated before its frame header
        (b"\xff\xd8\xff\xda\x00\x08" + bytes(20), "bad_header"),  # image data before a frame
        (b"BM" + bytes(12) + struct.pack("<Iii", 40, 100_000, -100_000), "image_too_large"),
        (b"GIF89a" + struct.pack("<HH", 65535, 65535), "image_too_large"),
        (b"II*\x00" + struct.pack("<IH", 8, 2) + struct.pack("<HHII", 256, 4, 1, 90_000)
         + struct.pack("<HHII", 257, 4, 1, 90_000), "image_too_large"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8X" + bytes(8) + b"\xff\xff\x00\xff\xff\x00", "image_too_large"),
        (b"P6\n# a comment\n90000 90000\n255\n", "image_too_large"),
    ],
    ids=["empty", "text", "random_bytes", "jpeg2000", "impossible_png_header", "png_bomb",
         "zero_width_png", "truncated_png_header", "truncated_jpeg_header", "jpeg_without_frame",
         "bmp_huge", "gif_huge", "tiff_huge", "webp_huge", "pnm_huge"],
)
def test_bad_compressed_frames_are_refused_before_decoding(data, reason):
    with pytest.raises(ImageConversionError) as raised:
        check_compressed(compressed(data))
    assert raised.value.reason == reason and str(raised.value)
    with pytest.raises(ImageConversionError) as raised:
        compressed_to_rgb(compressed(data))
    assert raised.value.reason == reason


def test_decoder_failures_and_complaints_are_rejections_with_nothing_on_stderr(capfd):
    ok, jpeg = cv2.imencode(".jpg", cv2.resize(BGR, (640, 480)))
    jpeg = jpeg.tobytes()
    corrupt = bytearray(jpeg)
    for index in range(len(corrupt) // 3, len(corrupt) - 2, 997):
        corrupt[index] ^= 0x5A
    ok, png = cv2.imencode(".png", BGR)
    cases = [
        (jpeg[: len(jpeg) // 2], "undecodable_image"),
        (bytes(corrupt), "corrupt_image"),
        (png.tobytes()[:-30], "undecodable_image"),  # IDAT cut short
    ]
    for data, reason in cases:
        with pytest.raises(ImageConversionError) as raised:
            compressed_to_rgb(compressed(data, "png"))
        assert raised.value.reason == reason, str(raised.value)
    err = capfd.readouterr().err
    assert "JPEG" not in err and "libpng" not in err and "WARN" not in err, err


def test_jpeg_labelled_png_is_decoded_by_its_signature():
    ok, jpeg = cv2.imencode(".jpg", BGR)
    assert compressed_to_rgb(compressed(jpeg.tobytes(), "png")).shape == (30, 50, 3)


def test_large_frames_are_decoded_reduced_but_never_below_min_side():
    frame = np.zeros((4320, 7680, 3), np.uint8)
    ok, jpeg = cv2.imencode(".jpg", frame)
    msg = compressed(jpeg.tobytes())
    assert compressed_to_rgb(msg, min_side=1280).shape == (1080, 1920, 3)  # 1/4
    assert compressed_to_rgb(msg, min_side=3840).shape == (2160, 3840, 3)  # 1/2
    assert compressed_to_rgb(msg, min_side=4000).shape == (4320, 7680, 3)  # full size
    header = check_compressed(msg)
    assert [reduction(header, side) for side in (0, 960, 1280, 3840, 7681)] == [1, 8, 4, 2, 1]


def test_an_8k_bomb_within_the_limit_decodes():
    rgb = compressed_to_rgb(compressed(png_bomb(7680, 4320), "png"), min_side=1280)
    assert rgb.shape[2] == 3 and max(rgb.shape[:2]) >= 1280
