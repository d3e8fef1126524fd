"""Frozen-backbone features of image files: decoding and cropping in DataLoader workers, the CNN on
the model's device in the main process, each image looked up in (and added to) a FeatureCache."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from mlnet_ros.inference.image_crops import image_crops
from mlnet_ros.inference.region_proposals import proposer_for
from training.feature_cache import FeatureCache

log = logging.getLogger("training")
IMAGES_PER_BATCH = 8


class ProposerCrops:
    """The global image + s crops of a named region proposer (what the recognizer uses); no crop labels."""

    def __init__(self, name: str):
        self.name, self.proposer = name, proposer_for(name)

    def __call__(self, rgb: np.ndarray, count: int) -> tuple[torch.Tensor, torch.Tensor | None]:
        crops, _ = image_crops(rgb, self.proposer, count)
        return torch.from_numpy(crops), None


@dataclass
class Decoded:
    index: int
    key: str | None
    stored: dict[str, torch.Tensor] | None = None  # from the cache
    crops: torch.Tensor | None = None  # (s+1, 3, 224, 224), when the CNN must run
    crop_labels: torch.Tensor | None = None  # (s+1,) class of each crop (-1: none), from a detector
    unreadable: bool = False


class DecodedImages(Dataset):
    """Image files → cached features, or crops for the CNN (run in DataLoader workers)."""

    def __init__(self, paths: list[Path], cropper, crop_count: int, cache: FeatureCache | None):
        self.paths, self.cropper, self.crop_count, self.cache = paths, cropper, crop_count, cache

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> Decoded:
        try:
            data = Path(self.paths[index]).read_bytes()
        except OSError:
            return Decoded(index, None, unreadable=True)
        key = self.cache.key(data) if self.cache else None
        stored = self.cache.load(key) if self.cache else None
        if stored is not None:
            return Decoded(index, key, stored)
        bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR) if data else None
        if bgr is None:
            return Decoded(index, key, unreadable=True)
        crops, labels = self.cropper(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), self.crop_count)
        return Decoded(index, key, crops=crops, crop_labels=labels)


@dataclass
class ImageFeatures:
    """``features[rows[i]]``: (s+1, C, grid, grid) float16 features of path i; ``rows[i]`` None: unreadable."""

    features: torch.Tensor
    rows: list[int | None]
    crop_labels: torch.Tensor | None = None  # (images, s+1) long, -1 = no label; with a detector only


def extract_features(model, paths: list[Path], cache: FeatureCache | None = None, workers: int = 0,
                     cropper=None) -> ImageFeatures:
    """Features of each image file from ``model``'s frozen backbone (on the backbone's device)."""
    cropper = cropper or ProposerCrops(model.config.proposer)
    device = model.backbone.mean.device
    loader = DataLoader(DecodedImages(paths, cropper, model.config.num_crops, cache), batch_size=IMAGES_PER_BATCH,
                        num_workers=workers, collate_fn=list)
    found: dict[int, dict[str, torch.Tensor]] = {}
    computed = 0
    started = time.perf_counter()
    for items in loader:
        pending = [item for item in items if item.crops is not None]
        if pending:
            features = model.backbone_features(torch.stack([item.crops for item in pending]).to(device)).half().cpu()
            computed += len(pending)
            for item, row in zip(pending, features, strict=True):
                item.stored = {"features": row}
                if item.crop_labels is not None:
                    item.stored["crop_labels"] = item.crop_labels
                if cache is not None:
                    cache.store(item.key, item.stored)
        found.update({item.index: item.stored for item in items if item.stored is not None})
    log.info("image features of %d files: %d from the cache, %d computed, %d unreadable (%.1f s)", len(paths),
             len(found) - computed, computed, len(paths) - len(found), time.perf_counter() - started)
    order = sorted(found)
    rows = [None] * len(paths)
    for row, index in enumerate(order):
        rows[index] = row
    channels = model.config.image_channels
    features = (torch.stack([found[i]["features"] for i in order]) if order
                else torch.zeros(0, model.config.num_crops + 1, channels, model.config.grid_size, model.config.grid_size,
                                 dtype=torch.float16))
    labels = None
    if order and "crop_labels" in found[order[0]]:
        labels = torch.stack([found[i]["crop_labels"] for i in order])
    return ImageFeatures(features, rows, labels)
