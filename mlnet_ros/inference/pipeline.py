"""The recognition pipeline, the same for every backend: tokenise → windows → run the graph (a
backend's runner) → CRF decode → entities.

``mlnet_ros.inference.backends.load_backend(model_dir, backend)`` builds an ``EntityRecognizer``
with the backend's runner. ``encode_image`` turns one RGB frame into reusable ``ImageFeatures``;
``recognize`` tags a free transcript, with or without an image.
"""
from __future__ import annotations

import time

import numpy as np

from mlnet_ros.core.labels import entity_spans
from mlnet_ros.core.results import ImageFeatures, Recognition, RecognizedEntity
from mlnet_ros.core.text_inputs import WordPieceTokenizer, split_words
from mlnet_ros.inference.image_crops import image_crops
from mlnet_ros.inference.region_proposals import RegionProposer
from mlnet_ros.inference.runner import Runner
from mlnet_ros.inference.tagging import WordTagging, tag_words


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
    tags; ``labels`` orders the marginals' columns) and, when the gate let the image in, the
    proposal crop its words attend to most (so entities of one sentence can point at different crops)."""
    label_index = {label: i for i, label in enumerate(labels)}
    entities = []
    for kind, first, end in entity_spans(tagging.tags):
        start, stop = words[first][1], words[end - 1][2]
        confidence = min(tagging.marginals[i, label_index[tagging.tags[i]]] for i in range(first, end))
        box = None
        if image is not None and tagging.image_used and tagging.attention is not None:
            box = image.attended_crop(tagging.attention[first:end])
        entities.append(RecognizedEntity(transcript[start:stop], kind, start, stop, float(confidence), box))
    return tuple(entities)


class EntityRecognizer:
    """Multimodal named-entity recognizer: the shared pipeline around one backend's ``runner``."""

    def __init__(
        self, runner: Runner, tokenizer: WordPieceTokenizer, model_name: str, backend: str, proposer: RegionProposer
    ):
        self.runner = runner
        self.tokenizer = tokenizer
        self.model_name = model_name
        self.backend = backend
        self.proposer = proposer

    def encode_image(self, rgb: np.ndarray) -> ImageFeatures:
        """Region proposals + CNN + projection + image transformer of an (H, W, 3) uint8 RGB frame."""
        check_rgb(rgb)
        crops, boxes = image_crops(rgb, self.proposer, self.runner.config.num_crops)
        regions = self.runner.encode_crops(crops[None])[0]
        return ImageFeatures(regions, tuple(boxes), rgb.shape[0], rgb.shape[1])

    def recognize_batch(
        self, transcripts: list[str], images: list[ImageFeatures | None] | None = None
    ) -> list[Recognition]:
        """Recognize entities in each transcript, paired with the image at the same index (or None)."""
        images = images if images is not None else [None] * len(transcripts)
        if len(images) != len(transcripts):
            raise ValueError(f"{len(transcripts)} transcripts but {len(images)} images")
        started = time.perf_counter()
        words = [split_words(t) for t in transcripts]
        regions = [None if im is None else im.regions for im in images]
        taggings = tag_words(self.runner, self.tokenizer, [[w for w, _, _ in ws] for ws in words], regions)
        elapsed_ms = 1000 * (time.perf_counter() - started) / max(1, len(transcripts))
        return [
            Recognition(
                transcript=t,
                entities=build_entities(t, ws, tagging, im, self.runner.config.labels),
                image_text_match=tagging.match_score if im is not None else 0.0,
                image_used=tagging.image_used,
                inference_ms=elapsed_ms,
            )
            for t, ws, tagging, im in zip(transcripts, words, taggings, images)
        ]

    def recognize(self, transcript: str, image: ImageFeatures | None = None) -> Recognition:
        """Recognize entities in one transcript, optionally grounded in an encoded image."""
        return self.recognize_batch([transcript], [image])[0]

    def warm_up(self) -> None:
        """One image and two text inferences (allocations, kernel selection) before serving."""
        side = self.runner.config.crop_size
        image = self.encode_image(np.zeros((side, side, 3), dtype=np.uint8))
        self.recognize("warm up", image)
        self.recognize("warm up")
