"""Tweet images from folders of ``<IMGID>.jpg`` files: frozen backbone features for each sentence.

Sentences without an ``IMGID:`` line, with no file in any folder, or with a file that does not
decode get no image (text only); each case is counted so the caller can report it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch

from mlnet_ros.image_encoder import image_crops
from mlnet_ros.region_proposals import SaliencyProposer
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
    """``features[rows[i]]`` holds sentence i's (s+1, C, 7, 7) backbone features; ``rows[i]`` None = no image."""

    features: torch.Tensor  # (images, s+1, C, 7, 7) float16
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
    row_of: dict[str, int | None] = {}  # an image shared by several sentences is encoded once
    rows: list[int | None] = []
    for sentence in sentences:
        if sentence.image_id is None:
            counts.without_imgid += 1
            rows.append(None)
            continue
        if sentence.image_id not in row_of:
            path = find_image(folders, sentence.image_id)
            rgb = None if path is None else load_image(path.parent, sentence.image_id)
            if rgb is None:
                row_of[sentence.image_id] = None
            else:
                crops, _ = image_crops(rgb, proposer, model.config.num_crops)
                features.append(model.backbone_features(crops.unsqueeze(0))[0].half())
                row_of[sentence.image_id] = len(features) - 1
        row = row_of[sentence.image_id]
        if row is not None:
            counts.used += 1
        elif find_image(folders, sentence.image_id) is None:
            counts.missing += 1
        else:
            counts.unreadable += 1
        rows.append(row)
    channels = model.config.image_channels
    empty = torch.zeros(0, model.config.num_crops + 1, channels, 7, 7, dtype=torch.float16)
    return TweetImages(torch.stack(features) if features else empty, rows, counts)


def sentence_regions(model, images: TweetImages | None, count: int) -> list[torch.Tensor | None]:
    """Per sentence: (s+1, 49, d) regions from ``model``'s current image layers, or None."""
    if images is None:
        return [None] * count
    with torch.inference_mode():
        return [None if row is None else model.regions_from_features(images.features[row : row + 1].float())[0]
                for row in images.rows]
