"""Training examples: model windows with gold tag ids, and optional cached backbone features."""
from __future__ import annotations

import random
from dataclasses import dataclass

import torch

from mlnet_ros.core.config import MLNetConfig
from mlnet_ros.core.labels import repair_bio
from mlnet_ros.core.text_inputs import Window, make_windows
from mlnet_ros.model.modeling import TextBatch


@dataclass
class Example:
    window: Window
    tag_ids: list[int]  # one per word of the window, valid BIO
    image: int | None = None  # row of the feature pool, None = no image
    match: float | None = None  # image–text matching label (VLM), None = not trained
    grounding: dict[str, tuple[int, ...]] | None = None  # entity type → crops its words should attend to


def make_examples(
    tokenizer, config: MLNetConfig, sentences: list[tuple[list[str], list[str]]],
    images: list[int | None] | None = None, matches: list[float | None] | None = None,
    grounding: list[dict[str, tuple[int, ...]]] | None = None,
) -> list[Example]:
    """One example per window of each (tokens, tags) sentence; stray I- tags become B-; tags index ``config.labels``.
    ``images``, ``matches`` and ``grounding`` (by sentence) go with every window of their sentence."""
    label_ids = {label: i for i, label in enumerate(config.labels)}
    examples = []
    for i, (tokens, tags) in enumerate(sentences):
        ids = [label_ids[t] for t in repair_bio(tags)]
        windows, _ = make_windows(
            tokenizer, tokens, config.max_length, config.window_stride, config.max_word_chars, config.char_vocab
        )
        for w in windows:
            n = len(w.word_starts)
            window_ids = [label_ids[t] for t in repair_bio(tags[w.first_word : w.first_word + n])]
            examples.append(Example(w, window_ids if len(windows) > 1 else ids,
                                    images[i] if images else None, matches[i] if matches else None,
                                    (grounding[i] or None) if grounding else None))
    return examples


def batches(examples: list[Example], batch_size: int, rng: random.Random) -> list[list[Example]]:
    """Shuffled batches of similar length; examples with and without images never share a batch."""
    groups = [[e for e in examples if e.image is None], [e for e in examples if e.image is not None]]
    result = []
    for group in groups:
        group = group[:]
        rng.shuffle(group)
        chunk = batch_size * 20
        for begin in range(0, len(group), chunk):
            block = sorted(group[begin : begin + chunk], key=lambda e: len(e.window.input_ids))
            result.extend(block[i : i + batch_size] for i in range(0, len(block), batch_size))
    rng.shuffle(result)
    return result


def collate_tags(examples: list[Example]) -> torch.Tensor:
    """(B, W) gold tag ids, padded with 0."""
    words = max(len(e.tag_ids) for e in examples)
    tags = torch.zeros(len(examples), words, dtype=torch.long)
    for i, e in enumerate(examples):
        tags[i, : len(e.tag_ids)] = torch.tensor(e.tag_ids)
    return tags


def collate(examples: list[Example]) -> tuple[TextBatch, torch.Tensor]:
    return TextBatch.collate([e.window for e in examples]), collate_tags(examples)
