"""Entity recognizers: the backend-independent interface and its PyTorch implementation.

``load_recognizer(model_dir)`` returns an ``EntityRecognizer``. ``encode_image`` turns one RGB frame
into reusable ``ImageFeatures``; ``recognize`` tags a free transcript, with or without an image.
"""
from __future__ import annotations

import time
from abc import ABC, abstractmethod
from pathlib import Path

import numpy as np
import torch

from mlnet_ros.model.checkpoint import ModelLoadError, load_checkpoint
from mlnet_ros.model.backbone import image_crops
from mlnet_ros.core.labels import entity_spans
from mlnet_ros.core.results import ImageFeatures, RecognizedEntity, Recognition
from mlnet_ros.inference.region_proposals import RegionProposer, SaliencyProposer
from mlnet_ros.inference.tagging import WordTagging, tag_words
from mlnet_ros.core.text_inputs import split_words

__all__ = ["EntityRecognizer", "ModelLoadError", "TorchRecognizer", "build_entities", "load_recognizer"]


class EntityRecognizer(ABC):
    """Multimodal named-entity recognizer; every backend returns the same ``Recognition`` types."""

    model_name: str
    backend: str

    @abstractmethod
    def encode_image(self, rgb: np.ndarray) -> ImageFeatures:
        """Region proposals + CNN + projection + image transformer of an (H, W, 3) uint8 RGB frame."""

    @abstractmethod
    def recognize_batch(
        self, transcripts: list[str], images: list[ImageFeatures | None] | None = None
    ) -> list[Recognition]:
        """Recognize entities in each transcript, paired with the image at the same index (or None)."""

    def recognize(self, transcript: str, image: ImageFeatures | None = None) -> Recognition:
        """Recognize entities in one transcript, optionally grounded in an encoded image."""
        return self.recognize_batch([transcript], [image])[0]


def check_rgb(rgb: np.ndarray) -> None:
    """Raise ValueError unless ``rgb`` is an (H, W, 3) uint8 array."""
    if not isinstance(rgb, np.ndarray) or rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        shape = getattr(rgb, "shape", None)
        raise ValueError(f"expected an (H, W, 3) uint8 RGB image, got {type(rgb).__name__} {shape}")


def build_entities(
    transcript: str,
    words: list[tuple[str, int, int]],
    tagging: WordTagging,
    image: ImageFeatures | None,
    labels: tuple[str, ...],
) -> tuple[RecognizedEntity, ...]:
    """Entities from word tags: character span, confidence (minimum CRF marginal of the entity's
    tags; ``labels`` orders the marginals' columns) and, when the gate let the image in, the image
    cell its words attend to most."""
    label_index = {label: i for i, label in enumerate(labels)}
    entities = []
    for kind, first, end in entity_spans(tagging.tags):
        start, stop = words[first][1], words[end - 1][2]
        confidence = min(tagging.marginals[i, label_index[tagging.tags[i]]] for i in range(first, end))
        box = None
        if image is not None and tagging.image_used and tagging.attention is not None:
            box = image.region_box(int(tagging.attention[first:end].sum(axis=0).argmax()))
        entities.append(RecognizedEntity(transcript[start:stop], kind, start, stop, float(confidence), box))
    return tuple(entities)


class TorchRecognizer(EntityRecognizer):
    """The PyTorch backend: loads a checkpoint directory (see ``mlnet_ros.model.checkpoint``)."""

    backend = "torch"

    def __init__(self, model_dir: str | Path, device: str = "cpu", proposer: RegionProposer | None = None):
        model, tokenizer = load_checkpoint(Path(model_dir))
        self._attach(model.to(torch.device(device)), tokenizer, model_dir, device, proposer)

    def _attach(self, model, tokenizer, model_dir: str | Path, device: str, proposer: RegionProposer | None) -> None:
        """Set the state the pre- and post-processing uses; the graph backends attach their own model."""
        self.model = model
        self.tokenizer = tokenizer
        self.device = torch.device(device)
        self.model_name = Path(model_dir).resolve().name
        self.proposer = proposer or SaliencyProposer()

    @torch.inference_mode()
    def encode_image(self, rgb: np.ndarray) -> ImageFeatures:
        check_rgb(rgb)
        crops, boxes = image_crops(rgb, self.proposer, self.model.config.num_crops)
        regions = self.model.encode_image(crops.unsqueeze(0).to(self.device))[0]
        return ImageFeatures(regions.float().cpu().numpy(), tuple(boxes), rgb.shape[0], rgb.shape[1])

    def recognize_batch(
        self, transcripts: list[str], images: list[ImageFeatures | None] | None = None
    ) -> list[Recognition]:
        images = images if images is not None else [None] * len(transcripts)
        if len(images) != len(transcripts):
            raise ValueError(f"{len(transcripts)} transcripts but {len(images)} images")
        started = time.perf_counter()
        words = [split_words(t) for t in transcripts]
        regions = [None if im is None else torch.from_numpy(im.regions) for im in images]
        taggings = tag_words(self.model, self.tokenizer, [[w for w, _, _ in ws] for ws in words], regions)
        elapsed_ms = 1000 * (time.perf_counter() - started) / max(1, len(transcripts))
        return [
            Recognition(
                transcript=t,
                entities=build_entities(t, ws, tagging, im, self.model.config.labels),
                image_text_match=tagging.match_score if im is not None else 0.0,
                image_used=tagging.image_used,
                inference_ms=elapsed_ms,
            )
            for t, ws, tagging, im in zip(transcripts, words, taggings, images)
        ]


def load_recognizer(
    model_dir: str | Path,
    backend: str = "torch",
    device: str = "cpu",
    fp16: bool = True,
    force_engine_rebuild: bool = False,
) -> EntityRecognizer:
    """Load a recognizer for a checkpoint directory with ``backend`` (torch, onnxruntime, tensorrt
    or auto: see ``mlnet_ros.inference.backends``); ``fp16`` and ``force_engine_rebuild`` apply to TensorRT
    engines. Raises ModelLoadError for unusable directories and BackendUnavailable when the
    backend cannot run here."""
    from mlnet_ros.inference.backends import load_backend  # imported here: the backends import this module

    return load_backend(model_dir, backend, device, fp16=fp16, force_engine_rebuild=force_engine_rebuild)
