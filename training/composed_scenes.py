"""Composed scenes: a person photo and an object photo (a logo, rocket, cup, cat, ...) pasted at random,
non-overlapping places on a larger noisy background, with a sentence naming both.

The grounding check scores them (test templates and names); training uses them (train templates and
names, augmented photos) as matched pairs with a grounding target per entity type: the proposal
crops that hold the centre of that entity's photo (and not the other's, where such a crop exists),
which the entity's words' cross-attention is trained to weigh most (``training.objective``).
"""
from __future__ import annotations

import random

import cv2
import numpy as np
import torch

from mlnet_ros.core.results import Box
from mlnet_ros.inference.region_proposals import overlap, proposer_for
from training.visual_check import (
    CONTEXT_ENTITIES,
    TEMPLATES,
    VisualSet,
    augment,
    base_images,
    crop_features,
    entity_tags,
    names,
)

SCENE_SIZE = (480, 640)  # height, width
OBJECT_KINDS = ("ORG", "MISC")


def _background(rng: random.Random) -> np.ndarray:
    height, width = SCENE_SIZE
    top = np.array([rng.randint(40, 220) for _ in range(3)], np.float32)
    bottom = np.array([rng.randint(40, 220) for _ in range(3)], np.float32)
    ramp = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    image = top + (bottom - top) * ramp + np.random.default_rng(rng.randrange(2**32)).normal(0, 8, (height, width, 3))
    return np.clip(image, 0, 255).astype(np.uint8)


def _paste(scene: np.ndarray, photo: np.ndarray, rng: random.Random, avoid: Box | None) -> Box:
    """Paste ``photo`` (longer side 140–220 px) where it does not overlap ``avoid``; returns its box."""
    side = rng.randint(140, 220)
    scale = side / max(photo.shape[:2])
    patch = cv2.resize(photo, (max(1, round(photo.shape[1] * scale)), max(1, round(photo.shape[0] * scale))),
                       interpolation=cv2.INTER_AREA)
    height, width = patch.shape[:2]
    for _ in range(100):
        x, y = rng.randint(0, SCENE_SIZE[1] - width), rng.randint(0, SCENE_SIZE[0] - height)
        box = Box(x, y, width, height)
        if avoid is None or overlap(box, avoid) == 0.0:
            break
    scene[y : y + height, x : x + width] = patch
    return box


def contains_centre(box: Box | None, target: Box) -> bool:
    """Whether ``box`` (None: no box) contains the centre of ``target``."""
    if box is None:
        return False
    cx, cy = target.x + target.width / 2, target.y + target.height / 2
    return box.x <= cx <= box.x + box.width and box.y <= cy <= box.y + box.height


def compose_scene(rng: random.Random, person: np.ndarray, thing: np.ndarray) -> tuple[np.ndarray, Box, Box]:
    """A scene with ``person`` and ``thing`` pasted apart: (RGB image, person box, thing box)."""
    scene = _background(rng)
    person_box = _paste(scene, person, rng, None)
    return scene, person_box, _paste(scene, thing, rng, person_box)


def target_crops(crop_boxes: list[Box], target: Box, other: Box) -> tuple[int, ...]:
    """Crop indices (1..s; 0, the global image, never) holding ``target``'s centre but not ``other``'s,
    or, where no crop separates them, every crop holding ``target``'s centre; () when none does."""
    holding = [i for i, box in enumerate(crop_boxes) if i and contains_centre(box, target)]
    separate = [i for i in holding if not contains_centre(crop_boxes[i], other)]
    return tuple(separate or holding)


def _scene_sentence(rng: random.Random, person: str, thing: str, kind: str) -> tuple[list[str], list[str]]:
    """A training template around "<person> and <thing>" (either order) with their tags."""
    named = [(person.split(), "PER"), (thing.split(), kind)]
    if rng.random() < 0.5:
        named.reverse()
    (first, first_kind), (second, second_kind) = named
    before, after = (part.split() for part in rng.choice(TEMPLATES["train"]).split("{}"))
    words = before + first + ["and"] + second + after
    tags = ["O"] * len(before) + entity_tags(first, first_kind) + ["O"] + entity_tags(second, second_kind)
    return words, tags + ["O"] * len(after)


def scene_pairs(model, count: int, seed: int) -> VisualSet:
    """``count`` composed training scenes (augmented photos; both names from the training context lists,
    or one of them made up so that only the image types it) with ``model``'s frozen backbone features
    and grounding targets."""
    rng = random.Random(f"scenes-{seed}")
    sources = base_images(random.Random(seed))
    proposer = proposer_for(model.config.proposer)
    result = VisualSet([], [], [], [], torch.empty(0), [], [])
    features = []
    for _ in range(count):
        kind = rng.choice(OBJECT_KINDS)
        scene, person_box, thing_box = compose_scene(
            rng, augment(rng.choice(sources["PER"]), rng), augment(rng.choice(sources[kind]), rng))
        made_up = rng.choice(("neither", "PER", kind))  # at most one name the image alone can type
        person = rng.choice(names("train") if made_up == "PER" else CONTEXT_ENTITIES["train"]["PER"])
        thing = rng.choice(names("train") if made_up == kind else CONTEXT_ENTITIES["train"][kind])
        words, tags = _scene_sentence(rng, person, thing, kind)
        scene_features, boxes = crop_features(model, proposer, scene)
        features.append(scene_features)
        targets = {"PER": target_crops(boxes, person_box, thing_box), kind: target_crops(boxes, thing_box, person_box)}
        result.add(words, tags, len(features) - 1, 1.0, "scene", {k: v for k, v in targets.items() if v})
    result.features = torch.stack(features)
    return result
