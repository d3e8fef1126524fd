"""Tweet images from folders of ``<IMGID>.jpg`` files: frozen backbone features for each sentence.

Sentences without an ``IMGID:`` line, with no file in any folder, or with a file that does not
decode get no image (text only); each case is counted so the caller can report it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from mlnet_ros.inference.image_crops import image_crops
from mlnet_ros.inference.region_proposals import SaliencyProposer
from training.data import DataError, Sentence, load_image


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


def tweet_images(model, sentences: list[Sentence], folders: list[Path]) -> TweetImages:
    """Backbone features of each sentence's image (``model``'s frozen backbone and crop count)."""
    for folder in folders:
        if not Path(folder).is_dir():
            raise DataError(f"{folder}: image folder not found")
    counts = ImageCounts()
    proposer = SaliencyProposer()
    features: list[torch.Tensor] = []
    # image id -> its feature row, or why it has none ("missing" / "unreadable"); each image is read once
    known: dict[str, int | str] = {}
    rows: list[int | None] = []
    for sentence in sentences:
        if sentence.image_id is None:
            counts.without_imgid += 1
            rows.append(None)
            continue
        if sentence.image_id not in known:
            path = find_image(folders, sentence.image_id)
            rgb = None if path is None else load_image(path.parent, sentence.image_id)
            if rgb is None:
                known[sentence.image_id] = "missing" if path is None else "unreadable"
            else:
                crops, _ = image_crops(rgb, proposer, model.config.num_crops)
                features.append(model.backbone_features(torch.from_numpy(crops[None]))[0].half())
                known[sentence.image_id] = len(features) - 1
        row = known[sentence.image_id]
        if row == "missing":
            counts.missing += 1
        elif row == "unreadable":
            counts.unreadable += 1
        else:
            counts.used += 1
        rows.append(row if isinstance(row, int) else None)
    config = model.config
    empty = torch.zeros(0, config.num_crops + 1, config.image_channels, config.grid_size, config.grid_size, dtype=torch.float16)
    return TweetImages(torch.stack(features) if features else empty, rows, counts)


def sentence_regions(model, images: TweetImages | None, count: int) -> list[np.ndarray | None]:
    """Per sentence: (s+1, cells, d) regions from ``model``'s current image layers, or None."""
    if images is None:
        return [None] * count
    with torch.inference_mode():
        return [None if row is None else model.regions_from_features(images.features[row : row + 1].float())[0].numpy()
                for row in images.rows]
