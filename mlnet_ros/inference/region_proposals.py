"""Region proposers: the top-s salient boxes of an image (paper §3.1).

Every proposer returns exactly ``s`` boxes (padding with fixed fallback boxes when it finds
fewer), so the model always sees s + 1 crops. A checkpoint names its proposer (``PROPOSERS``,
built by ``proposer_for``): ``saliency`` (spectral residual), ``fine-grained`` (OpenCV's fine-grained
static saliency on a reduced image: finds whole objects and people on plain or noisy backgrounds that
the spectral residual misses) or ``saliency+people`` (OpenCV's built-in HOG people detector first,
then the salient boxes that do not overlap a person).
"""
from __future__ import annotations

from typing import Protocol

import cv2
import numpy as np

from mlnet_ros.core.config import PROPOSERS
from mlnet_ros.core.results import Box

MIN_SIDE = 16


class RegionProposer(Protocol):
    def propose(self, rgb: np.ndarray, count: int) -> list[Box]:
        """The ``count`` most salient boxes of an (H, W, 3) uint8 RGB image, best first."""


def fallback_boxes(height: int, width: int) -> list[Box]:
    """Fixed boxes used when a proposer finds too few: centre, left half, right half, top, bottom."""
    h2, w2 = max(1, height // 2), max(1, width // 2)
    return [
        Box(width // 4, height // 4, w2, h2),
        Box(0, 0, w2, height),
        Box(width - w2, 0, w2, height),
        Box(0, 0, width, h2),
        Box(0, height - h2, width, h2),
    ]


def pad_boxes(boxes: list[Box], count: int, height: int, width: int) -> list[Box]:
    """The first ``count`` boxes, completed with fallback boxes (cycled) if there are fewer."""
    extra = fallback_boxes(height, width)
    while len(boxes) < count:
        boxes = boxes + [extra[(len(boxes)) % len(extra)]]
    return boxes[:count]


def _clip(x0: float, y0: float, x1: float, y1: float, height: int, width: int) -> Box | None:
    x0, y0 = max(0, int(x0)), max(0, int(y0))
    x1, y1 = min(width, int(np.ceil(x1))), min(height, int(np.ceil(y1)))
    if x1 - x0 < MIN_SIDE or y1 - y0 < MIN_SIDE:
        return None
    return Box(x0, y0, x1 - x0, y1 - y0)


def salient_boxes(saliency: np.ndarray) -> list[Box]:
    """Boxes around the connected salient areas of a uint8 saliency map (Otsu threshold, dilated),
    each padded by 10 %, most salient (largest summed saliency) first."""
    height, width = saliency.shape[:2]
    saliency = cv2.GaussianBlur(saliency, (9, 9), 0)
    _, mask = cv2.threshold(saliency, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    mask = cv2.dilate(mask, np.ones((15, 15), np.uint8))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask)
    boxes: list[tuple[float, Box]] = []
    for i in range(1, n):
        x, y, w, h, _ = stats[i]
        pad_x, pad_y = 0.1 * w, 0.1 * h
        box = _clip(x - pad_x, y - pad_y, x + w + pad_x, y + h + pad_y, height, width)
        if box is not None:
            boxes.append((float(saliency[labels == i].sum()), box))
    boxes.sort(key=lambda item: -item[0])
    return [b for _, b in boxes]


class SaliencyProposer:
    """Class-agnostic proposals from OpenCV's spectral-residual saliency map; needs no weights."""

    def salient(self, rgb: np.ndarray) -> list[Box]:
        """Every salient box found, most salient first."""
        detector = cv2.saliency.StaticSaliencySpectralResidual_create()
        ok, saliency = detector.computeSaliency(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        return salient_boxes((saliency * 255).astype(np.uint8)) if ok else []

    def propose(self, rgb: np.ndarray, count: int) -> list[Box]:
        height, width = rgb.shape[:2]
        return pad_boxes(self.salient(rgb), count, height, width)


class FineGrainedSaliencyProposer:
    """Class-agnostic proposals from OpenCV's fine-grained static saliency (centre-surround contrast),
    computed on the image reduced to at most ``max_side`` pixels and scaled back; needs no weights."""

    def __init__(self, max_side: int = 160):
        self.max_side = max_side

    def salient(self, rgb: np.ndarray) -> list[Box]:
        """Every salient box found, most salient first."""
        height, width = rgb.shape[:2]
        scale = min(1.0, self.max_side / max(height, width))
        size = (max(1, round(width * scale)), max(1, round(height * scale)))  # a 1 x 2000 frame stays 1 high
        small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA) if scale < 1 else rgb
        ok, saliency = cv2.saliency.StaticSaliencyFineGrained_create().computeSaliency(
            cv2.cvtColor(small, cv2.COLOR_RGB2BGR))
        if not ok or saliency.max() <= 0:
            return []
        saliency = cv2.resize(saliency.astype(np.float32), (width, height), interpolation=cv2.INTER_LINEAR)
        return salient_boxes((255 * saliency / saliency.max()).astype(np.uint8))

    def propose(self, rgb: np.ndarray, count: int) -> list[Box]:
        height, width = rgb.shape[:2]
        return pad_boxes(self.salient(rgb), count, height, width)


def overlap(a: Box, b: Box) -> float:
    """Intersection over union of two boxes."""
    width = max(0, min(a.x + a.width, b.x + b.width) - max(a.x, b.x))
    height = max(0, min(a.y + a.height, b.y + b.height) - max(a.y, b.y))
    shared = width * height
    return shared / float(a.width * a.height + b.width * b.height - shared)


class PeopleProposer:
    """The people detector of ``PeopleThenSaliencyProposer``: OpenCV's built-in HOG + linear SVM
    (no weights file), on the image scaled to at most ``max_side`` pixels."""

    def __init__(self, max_side: int = 480, min_score: float = 0.3):
        self.max_side, self.min_score = max_side, min_score
        self.hog = cv2.HOGDescriptor()
        self.hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())

    def detect(self, rgb: np.ndarray, count: int) -> list[Box]:
        """The people found (possibly fewer than ``count``), best first."""
        height, width = rgb.shape[:2]
        scale = min(1.0, self.max_side / max(height, width))
        small = cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else rgb
        if min(small.shape[:2]) < 128:
            return []
        rects, scores = self.hog.detectMultiScale(small, winStride=(8, 8), padding=(16, 16), scale=1.05)
        found = sorted(zip(np.ravel(scores).tolist(), [tuple(r) for r in rects], strict=True), reverse=True)
        boxes = [_clip(x / scale, y / scale, (x + w) / scale, (y + h) / scale, height, width)
                 for score, (x, y, w, h) in found if score >= self.min_score]
        return [b for b in boxes if b is not None][:count]


class PeopleThenSaliencyProposer:
    """People first (``PeopleProposer``), then the salient boxes that overlap no person (IoU < 0.5)."""

    def __init__(self):
        self.people, self.saliency = PeopleProposer(), SaliencyProposer()

    def propose(self, rgb: np.ndarray, count: int) -> list[Box]:
        height, width = rgb.shape[:2]
        boxes = self.people.detect(rgb, count)
        for box in self.saliency.salient(rgb):
            if len(boxes) >= count:
                break
            if all(overlap(box, taken) < 0.5 for taken in boxes):
                boxes.append(box)
        return pad_boxes(boxes, count, height, width)


def proposer_for(name: str) -> RegionProposer:
    """The proposer a checkpoint or node parameter names (one of ``PROPOSERS``)."""
    if name == "saliency":
        return SaliencyProposer()
    if name == "fine-grained":
        return FineGrainedSaliencyProposer()
    if name == "saliency+people":
        return PeopleThenSaliencyProposer()
    raise ValueError(f"unknown region proposer {name!r} (choose from {', '.join(PROPOSERS)})")


class TorchvisionDetectorProposer:
    """Top-scoring boxes of a torchvision detector (e.g. ``fasterrcnn_resnet50_fpn``) with a local weights file."""

    def __init__(self, architecture: str, weights_path: str):
        import torch
        import torchvision

        self.model = getattr(torchvision.models.detection, architecture)(weights=None, weights_backbone=None)
        self.model.load_state_dict(torch.load(weights_path, map_location="cpu", weights_only=True))
        self.model.eval()

    def propose(self, rgb: np.ndarray, count: int) -> list[Box]:
        import torch

        height, width = rgb.shape[:2]
        with torch.inference_mode():
            out = self.model([torch.from_numpy(rgb).permute(2, 0, 1).float() / 255.0])[0]
        boxes = [_clip(*b.tolist(), height, width) for b in out["boxes"]]  # sorted by score
        return pad_boxes([b for b in boxes if b is not None], count, height, width)


class OnnxDetectorProposer:
    """Boxes from an ONNX detector: input float32 (1, 3, H, W) in [0, 1]; outputs ``boxes`` (N, 4) xyxy
    pixels and ``scores`` (N,) (the first two outputs, in that order)."""

    def __init__(self, onnx_path: str):
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = onnxruntime.InferenceSession(onnx_path, options, providers=["CPUExecutionProvider"])

    def propose(self, rgb: np.ndarray, count: int) -> list[Box]:
        height, width = rgb.shape[:2]
        pixels = (rgb.transpose(2, 0, 1)[None] / 255.0).astype(np.float32)
        boxes, scores = self.session.run(None, {self.session.get_inputs()[0].name: pixels})[:2]
        order = np.argsort(-scores.reshape(-1))
        clipped = [_clip(*boxes.reshape(-1, 4)[i].tolist(), height, width) for i in order]
        return pad_boxes([b for b in clipped if b is not None], count, height, width)
