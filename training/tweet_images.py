"""Tweet images from folders of ``<IMGID>.jpg`` files: frozen backbone features for each sentence.

Sentences without an ``IMGID:`` line, with no file in any folder, or with a file that does not
decode get no image (text only); each case is counted so the caller can report it. The features
come from ``training.image_features`` (DataLoader workers, optional on-disk cache).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from training.data import DataError, Sentence
from training.feature_cache import FeatureCache
from training.image_features import extract_features


@dataclass
class ImageCounts:
    used: int = 0
    missing: int = 0
    unreadable: int = 0
    without_imgid: int = 0

    def __str__(self) -> str:
        return (f"images: {self.used} used, {self.missing} missing, {self.unreadable} unreadable, "
                f"{self.without_imgid} sentences without IMGID")


@dataclass
class TweetImages:
    """``features[rows[i]]`` holds sentence i's (s+1, C, grid, grid) backbone features; ``rows[i]`` None = no image."""

    features: torch.Tensor  # (images, s+1, C, grid, grid) float16
    rows: list[int | None]
    counts: ImageCounts = field(default_factory=ImageCounts)


def find_image(folders: list[Path], image_id: str) -> Path | None:
    """The first ``<folder>/<image_id>.jpg`` that exists."""
    return next((Path(f) / f"{image_id}.jpg" for f in folders if (Path(f) / f"{image_id}.jpg").is_file()), None)


def tweet_images(model, sentences: list[Sentence], folders: list[Path], cache: FeatureCache | None = None,
                 workers: int = 0) -> TweetImages:
    """Backbone features of each sentence's image (``model``'s frozen backbone and crop count); each
    image file is decoded once, in ``workers`` DataLoader workers, or taken from ``cache``."""
    for folder in folders:
        if not Path(folder).is_dir():
            raise DataError(f"{folder}: image folder not found")
    counts = ImageCounts()
    ids = list(dict.fromkeys(s.image_id for s in sentences if s.image_id is not None))
    paths = {image_id: find_image(folders, image_id) for image_id in ids}
    present = [image_id for image_id in ids if paths[image_id] is not None]
    extracted = extract_features(model, [paths[image_id] for image_id in present], cache, workers)
    row_of = dict(zip(present, extracted.rows, strict=True))
    rows: list[int | None] = []
    for sentence in sentences:
        row = row_of.get(sentence.image_id)
        if sentence.image_id is None:
            counts.without_imgid += 1
        elif paths[sentence.image_id] is None:
            counts.missing += 1
        elif row is None:
            counts.unreadable += 1
        else:
            counts.used += 1
        rows.append(row)
    return TweetImages(extracted.features, rows, counts)


def sentence_regions(model, images: TweetImages | None, count: int) -> list[np.ndarray | None]:
    """Per sentence: (s+1, cells, d) regions from ``model``'s current image layers (computed on its device), or None."""
    if images is None:
        return [None] * count
    device = next(model.parameters()).device
    regions = []
    with torch.inference_mode():
        for row in images.rows:
            features = None if row is None else images.features[row : row + 1].to(device).float()
            regions.append(None if features is None else model.regions_from_features(features)[0].cpu().numpy())
    return regions
