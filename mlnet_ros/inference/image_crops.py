"""The model's image input: the global image plus proposed crops, each resized to the backbone's crop size."""
from __future__ import annotations

import cv2
import numpy as np

from mlnet_ros.core.config import MLNetConfig
from mlnet_ros.core.results import Box
from mlnet_ros.inference.region_proposals import RegionProposer


def crop_and_resize(rgb: np.ndarray, boxes: list[Box]) -> np.ndarray:
    """Cut ``boxes`` out of an (H, W, 3) uint8 image and resize each to the crop size:
    (len(boxes), 3, crop, crop) float32 in 0..255."""
    size = MLNetConfig.crop_size
    crops = []
    for b in boxes:
        patch = rgb[b.y : b.y + b.height, b.x : b.x + b.width]
        crops.append(cv2.resize(patch, (size, size), interpolation=cv2.INTER_AREA))
    return np.ascontiguousarray(np.stack(crops).transpose(0, 3, 1, 2), dtype=np.float32)


def image_crops(rgb: np.ndarray, proposer: RegionProposer, count: int) -> tuple[np.ndarray, list[Box]]:
    """The global image plus ``count`` proposed crops, as (count+1, 3, crop, crop) float32 and their boxes."""
    height, width = rgb.shape[:2]
    boxes = [Box(0, 0, width, height)] + proposer.propose(rgb, count)
    return crop_and_resize(rgb, boxes), boxes
