"""Image–caption corpora for pretraining (``pretrain --captions FILE``), and a detector's labelled crops.

FILE is either JSON lines, ``{"image": "path", "text": "caption"}`` per line (relative image
paths from ``--image-dir``, else from FILE's folder), or a COCO captions file (``images`` with
``id``/``file_name``, ``annotations`` with ``image_id``/``caption``; images in ``--image-dir``).
Captions whose image file is missing are counted in the log and left out; a malformed line or
entry is a DataError naming it.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from mlnet_ros.core.results import Box
from mlnet_ros.core.text_inputs import split_words
from mlnet_ros.inference.image_crops import crop_and_resize
from mlnet_ros.inference.region_proposals import MIN_SIDE, fallback_boxes
from training.conll_files import decode_utf8
from training.data import DataError
from training.errors import UsageError
from training.feature_cache import FeatureCache, weights_identity
from training.image_features import extract_features

log = logging.getLogger("training")


@dataclass(frozen=True)
class Caption:
    image: Path
    words: list[str]


def _caption(text, image, where: str, image_dir: Path) -> Caption:
    if not isinstance(image, str) or not image:
        raise DataError(f"{where}: no image path")
    if not isinstance(text, str) or not split_words(text):
        raise DataError(f"{where}: empty caption")
    return Caption(image_dir / image, [w for w, _, _ in split_words(text)])


def read_captions(path: Path, image_dir: Path | None = None) -> list[Caption]:
    """The captions of a JSON-lines or COCO captions file whose image file exists (the others counted in the log)."""
    path = Path(path)
    text = decode_utf8(path)
    if not text.strip():
        raise DataError(f"{path}: empty file")
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        document = None
    if isinstance(document, dict) and "annotations" in document:
        captions = _coco(path, document, image_dir)
    else:
        captions = _json_lines(path, text, image_dir or path.parent)
    present = [c for c in captions if c.image.is_file()]
    log.info("%s: %d captions, %d of them without their image file (left out)", path, len(captions),
             len(captions) - len(present))
    if not present:
        raise DataError(f"{path}: no caption has its image file (first: {captions[0].image})")
    return present


def _json_lines(path: Path, text: str, image_dir: Path) -> list[Caption]:
    captions = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            entry = json.loads(line)
        except json.JSONDecodeError as error:
            raise DataError(f"{where}: not a JSON object ({error.msg})") from None
        if not isinstance(entry, dict):
            raise DataError(f"{where}: not a JSON object")
        captions.append(_caption(entry.get("text"), entry.get("image"), where, image_dir))
    return captions


def _coco(path: Path, document: dict, image_dir: Path | None) -> list[Caption]:
    if image_dir is None:
        raise UsageError(f"--captions {path}: a COCO captions file needs --image-dir DIR (where its images are)")
    try:
        files = {entry["id"]: entry["file_name"] for entry in document["images"]}
        annotations = document["annotations"]
        return [_caption(a.get("caption"), files.get(a.get("image_id")), f"{path}: annotation {i}", Path(image_dir))
                for i, a in enumerate(annotations)]
    except (KeyError, TypeError, AttributeError) as error:
        raise DataError(f"{path}: not a COCO captions file ({error!r} missing or malformed)") from None


class DetectorCrops:
    """The global image + the s highest-scoring boxes of a torchvision detector, each with its class
    (the MVM target); fallback boxes where it finds fewer carry no class (-1), nor does the global image."""

    def __init__(self, architecture: str, weights: Path):
        import torchvision

        if not hasattr(torchvision.models.detection, architecture):
            raise UsageError(f"--detector {architecture}: not a torchvision.models.detection model")
        self.architecture, self.weights = architecture, str(weights)
        try:
            self._model = self._load()
        except (OSError, RuntimeError, ValueError) as error:
            raise UsageError(f"--detector-weights {weights}: cannot load {architecture} "
                             f"({str(error).splitlines()[0]})") from None
        self.num_classes = self._model.roi_heads.box_predictor.cls_score.out_features \
            if hasattr(self._model, "roi_heads") else 91
        self.name = f"detector:{architecture}:{weights_identity(self.weights)}"

    def _load(self):
        import torchvision

        model = getattr(torchvision.models.detection, self.architecture)(weights=None, weights_backbone=None)
        model.load_state_dict(torch.load(self.weights, map_location="cpu", weights_only=True))
        return model.eval()

    def __call__(self, rgb: np.ndarray, count: int) -> tuple[torch.Tensor, torch.Tensor]:
        height, width = rgb.shape[:2]
        with torch.inference_mode():
            out = self._model([torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1).float() / 255.0])[0]
        boxes, labels = [], []
        for (x0, y0, x1, y1), label in zip(out["boxes"].tolist(), out["labels"].tolist(), strict=True):
            x0, y0 = max(0, int(x0)), max(0, int(y0))
            x1, y1 = min(width, int(np.ceil(x1))), min(height, int(np.ceil(y1)))
            if x1 - x0 >= MIN_SIDE and y1 - y0 >= MIN_SIDE and len(boxes) < count:
                boxes.append(Box(x0, y0, x1 - x0, y1 - y0))
                labels.append(label)
        extra = fallback_boxes(height, width)
        while len(boxes) < count:
            boxes.append(extra[len(boxes) % len(extra)])
            labels.append(-1)
        crops = crop_and_resize(rgb, [Box(0, 0, width, height)] + boxes)
        return torch.from_numpy(crops), torch.tensor([-1] + labels, dtype=torch.long)


@dataclass
class CaptionImages:
    """An image–caption corpus with frozen-backbone features: caption i shows image ``rows[i]``."""

    words: list[list[str]]
    features: torch.Tensor  # (images, s+1, C, grid, grid) float16
    rows: list[int]
    crop_labels: torch.Tensor | None  # (images, s+1) detector class per crop (-1: none); None: ImageNet targets
    detector_classes: int = 0


def caption_images(model, captions: list[Caption], cache: FeatureCache | None = None, workers: int = 0,
                   detector: DetectorCrops | None = None) -> CaptionImages:
    """Features of each caption's image (each file once); captions whose image does not decode are
    counted in the log and left out."""
    paths = list(dict.fromkeys(c.image for c in captions))
    extracted = extract_features(model, paths, cache, workers, detector)
    row_of = dict(zip(paths, extracted.rows, strict=True))
    kept = [c for c in captions if row_of[c.image] is not None]
    if len(kept) < len(captions):
        log.info("captions: %d left out, their image does not decode", len(captions) - len(kept))
    if len({row_of[c.image] for c in kept}) < 2:
        raise DataError("--captions: fewer than 2 decodable images (VLM pairs a caption with another image)")
    return CaptionImages([c.words for c in kept], extracted.features, [row_of[c.image] for c in kept],
                         extracted.crop_labels, detector.num_classes if detector else 0)
