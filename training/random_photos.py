"""Unrelated real photos for the never-hurt check (``evaluate``/``predict --random-images SEED``):
each sentence is paired with one of scikit-image's bundled photos, drawn with SEED."""
from __future__ import annotations

import random

import numpy as np
import skimage.data
import torch

from training.data import Sentence
from training.image_features import ProposerCrops
from training.tweet_images import ImageCounts, TweetImages

PHOTOS = ("astronaut", "coffee", "chelsea", "camera", "rocket", "horse", "coins", "hubble_deep_field", "page",
          "clock", "text", "moon", "logo")


def photo(name: str) -> np.ndarray:
    """scikit-image's photo ``name`` as (H, W, 3) uint8 RGB."""
    image = np.asarray(getattr(skimage.data, name)())
    if image.dtype == bool:
        image = image.astype(np.uint8) * 255
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=2)
    return np.ascontiguousarray(image[..., :3].astype(np.uint8))


def random_photo_images(model, sentences: list[Sentence], seed: int) -> TweetImages:
    """Each sentence paired with a photo of PHOTOS drawn with ``seed`` (``model``'s backbone and proposer)."""
    cropper = ProposerCrops(model.config.proposer)
    device = model.backbone.mean.device
    crops = torch.stack([cropper(photo(name), model.config.num_crops)[0] for name in PHOTOS])
    features = model.backbone_features(crops.to(device)).half().cpu()
    rng = random.Random(seed)
    rows = [rng.randrange(len(PHOTOS)) for _ in sentences]
    return TweetImages(features, rows, ImageCounts(used=len(sentences)))
