"""Grounding check: does an entity's box point at the thing the sentence names?

Each scene pastes a person photo and an object photo (a logo, rocket, cup, cat, ...) at random,
non-overlapping places on a larger noisy background; the sentence, from the visual check's test
templates, names a person and an organisation or product from the test context lists ("Another
photo of Usain Bolt and Intel for you"). The recogniser runs on the scene as the node would (region
proposals on the raw pixels). A hit: the entity at that span has a box (the gate was open) that
contains the centre of its pasted photo. The box says where the words looked, not who anyone is.
"""
from __future__ import annotations

import random

import cv2
import numpy as np

from mlnet_ros.core.results import Box
from mlnet_ros.inference.pipeline import EntityRecognizer
from mlnet_ros.inference.region_proposals import overlap
from training.visual_check import CONTEXT_ENTITIES, TEMPLATES, base_images

SCENE_SIZE = (480, 640)  # height, width


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


def _contains_centre(box: Box | None, target: Box) -> bool:
    if box is None:
        return False
    cx, cy = target.x + target.width / 2, target.y + target.height / 2
    return box.x <= cx <= box.x + box.width and box.y <= cy <= box.y + box.height


def compose_scene(rng: random.Random, person: np.ndarray, thing: np.ndarray) -> tuple[np.ndarray, Box, Box]:
    """A scene with ``person`` and ``thing`` pasted apart: (RGB image, person box, thing box)."""
    scene = _background(rng)
    person_box = _paste(scene, person, rng, None)
    return scene, person_box, _paste(scene, thing, rng, person_box)


def grounding_check(recognizer: EntityRecognizer, scenes: int = 100, seed: int = 13) -> dict[str, float]:
    """Share of ``scenes`` composed scenes whose person / object entity's box contains its photo's centre."""
    rng = random.Random(f"grounding-{seed}")
    sources = base_images(random.Random(seed))
    things = [(kind, image) for kind in ("ORG", "MISC") for image in sources[kind]]
    person_hits = thing_hits = gate_open = distinct = 0
    for _ in range(scenes):
        kind, thing = rng.choice(things)
        scene, person_box, thing_box = compose_scene(rng, rng.choice(sources["PER"]), thing)
        person_name = rng.choice(CONTEXT_ENTITIES["test"]["PER"])
        thing_name = rng.choice(CONTEXT_ENTITIES["test"][kind])
        before, after = rng.choice(TEMPLATES["test"]).split("{}")
        transcript = " ".join(f"{before}{person_name} and {thing_name}{after}".split())
        recognition = recognizer.recognize(transcript, recognizer.encode_image(scene))
        boxes = {entity.text: entity.box for entity in recognition.entities}
        person_hits += _contains_centre(boxes.get(person_name), person_box)
        thing_hits += _contains_centre(boxes.get(thing_name), thing_box)
        gate_open += recognition.image_used
        distinct += boxes.get(person_name) is not None and boxes.get(person_name) != boxes.get(thing_name)
    return {
        "scenes": scenes,
        "person_box_on_person_pct": round(100 * person_hits / scenes, 1),
        "object_box_on_object_pct": round(100 * thing_hits / scenes, 1),
        "gate_open_pct": round(100 * gate_open / scenes, 1),
        "different_boxes_pct": round(100 * distinct / scenes, 1),
    }
