"""Backend-independent types of a recognition: what every inference backend returns."""
from __future__ import annotations

import math
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

    def cell_box(self, crop: int, cell: int) -> Box:
        """Source-image box of cell ``cell`` (row-major in the crop's grid) of crop ``crop``."""
        b = self.crop_boxes[crop]
        grid = math.isqrt(self.regions.shape[1])
        row, col = divmod(cell, grid)
        x0 = b.x + (b.width * col) // grid
        x1 = b.x + (b.width * (col + 1)) // grid
        y0 = b.y + (b.height * row) // grid
        y1 = b.y + (b.height * (row + 1)) // grid
        return Box(x0, y0, max(1, x1 - x0), max(1, y1 - y0))

    def region_box(self, region: int) -> Box:
        """Source-image box of region ``region`` of the flattened (crop, cell) order the cross-attention uses."""
        return self.cell_box(*divmod(region, self.regions.shape[1]))


@dataclass(frozen=True)
class Recognition:
    """The answer for one transcript."""

    transcript: str
    entities: tuple[RecognizedEntity, ...]
    image_text_match: float  # 0.0 when no image was given
    image_used: bool  # True when an image was given and the matching gate was open (score > 0.5)
    inference_ms: float
