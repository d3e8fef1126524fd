"""Image features ready for the recogniser, computed at a bounded resolution.

Frames are downscaled so their longer side is at most MODEL_MAX_SIDE before region proposals and
the CNN run (an 8K frame costs about as much as a 720p one); entity boxes are scaled back to
source pixels with ``to_source``.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from mlnet_ros.core.results import Box, ImageFeatures

MODEL_MAX_SIDE = 1280
MAX_PIXELS = 7680 * 4320  # largest accepted frame: 8K UHD (any aspect ratio)


@dataclass(frozen=True)
class EncodedImage:
    """Features of an image and the (possibly downscaled) RGB image they were computed from."""

    features: ImageFeatures
    rgb: np.ndarray
    scale: float  # source pixels per model-input pixel
    width: int  # source image size
    height: int

    def to_source(self, box: Box) -> Box:
        """A box in model-input pixels as a box in source pixels, inside the source image."""
        x0 = min(int(box.x * self.scale), self.width - 1)
        y0 = min(int(box.y * self.scale), self.height - 1)
        x1 = min(max(round((box.x + box.width) * self.scale), x0 + 1), self.width)
        y1 = min(max(round((box.y + box.height) * self.scale), y0 + 1), self.height)
        return Box(x0, y0, x1 - x0, y1 - y0)


def encode(recognizer, rgb: np.ndarray) -> EncodedImage:
    """Run ``recognizer.encode_image`` on ``rgb`` downscaled to at most MODEL_MAX_SIDE."""
    model_rgb, scale = fit_within(rgb, MODEL_MAX_SIDE)
    features = recognizer.encode_image(model_rgb)
    return EncodedImage(features, model_rgb, scale, width=rgb.shape[1], height=rgb.shape[0])


def fit_within(rgb: np.ndarray, max_side: int) -> tuple[np.ndarray, float]:
    """Downscale so the longer side is at most ``max_side``; return the image and the
    factor that maps its pixels back to the source (1.0 when unchanged)."""
    height, width = rgb.shape[:2]
    longer = max(height, width)
    if longer <= max_side:
        return rgb, 1.0
    scale = longer / max_side
    size = (max(1, round(width / scale)), max(1, round(height / scale)))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA), scale
