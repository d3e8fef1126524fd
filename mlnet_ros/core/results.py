"""Backend-independent types of a recognition: what every inference backend returns."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Box:
    """An axis-aligned box in pixels of the source image; (x, y) is the top-left corner."""

    x: int
    y: int
    width: int
    height: int


@dataclass(frozen=True)
class RecognizedEntity:
    """One entity: ``text == transcript[start:end]``; ``box`` is None for text-only answers."""

    text: str
    type: str
    start: int
    end: int
    confidence: float
    box: Box | None = None


@dataclass(frozen=True)
class ImageFeatures:
    """Projected region features of one image (global image + s crops), reusable across transcripts.

    ``regions`` has shape (s + 1, cells, hidden): a square grid of cells per crop (row-major), crop 0
    is the global image.
    ``crop_boxes`` holds the s + 1 crops in source-image pixels, in the same order.
    """

    regions: np.ndarray
    crop_boxes: tuple[Box, ...]
    image_height: int
    image_width: int

    def attended_crop(self, attention: np.ndarray) -> Box:
        """The proposal crop (not the global image) that ``attention`` rows, (words, regions) in the
        flattened (crop, cell) order of the cross-attention, weigh most in total."""
        per_crop = attention.reshape(attention.shape[0], len(self.crop_boxes), -1).sum(axis=(0, 2))
        return self.crop_boxes[1 + int(per_crop[1:].argmax())]


@dataclass(frozen=True)
class Recognition:
    """The answer for one transcript."""

    transcript: str
    entities: tuple[RecognizedEntity, ...]
    image_text_match: float  # 0.0 when no image was given
    image_used: bool  # True when an image was given and the matching gate was open (score > 0.5)
    inference_ms: float
