"""Debug view: one rectangle per distinct grounding box, labels that do not overlap, the gate score (OpenCV)."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from mlnet_ros.core.results import Box, Recognition, RecognizedEntity

# RGB colour per entity type.
COLOURS = {
    "PER": (255, 64, 64),
    "LOC": (64, 200, 64),
    "ORG": (64, 128, 255),
    "MISC": (255, 200, 0),
}
OTHER_COLOUR = (255, 255, 255)
FONT = cv2.FONT_HERSHEY_SIMPLEX


def _overlaps(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _free_spot(size: tuple[int, int], wanted: tuple[int, int], taken: list[tuple[int, int, int, int]],
               shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    """A (x0, y0, x1, y1) label rectangle of ``size`` near ``wanted`` (its top-left) inside the image,
    moved down (then up) a line at a time until it overlaps no rectangle in ``taken``."""
    width, height = size
    x = min(max(0, wanted[0]), max(0, shape[1] - width))
    first = min(max(0, wanted[1]), max(0, shape[0] - height))
    candidates = list(range(first, shape[0] - height + 1, height)) + list(range(first - height, -1, -height))
    for y in candidates or [first]:
        spot = (x, y, x + width, y + height)
        if not any(_overlaps(spot, other) for other in taken):
            return spot
    return (x, first, x + width, first + height)  # the image is full of labels: draw over them


@dataclass(frozen=True)
class Label:
    text: str
    colour: tuple[int, int, int]
    spot: tuple[int, int, int, int]  # x0, y0, x1, y1: the label's dark background


@dataclass(frozen=True)
class Overlay:
    rectangles: list[tuple[Box, tuple[int, int, int]]]  # one per distinct box
    labels: list[Label]  # the gate line first, then one per drawn entity; no two overlap


def text_size(text: str, thickness: int) -> tuple[int, int, int]:
    """(width, line height, baseline) of ``text`` at the overlay's font size for ``thickness``."""
    (width, height), baseline = cv2.getTextSize(text, FONT, 0.4 * thickness, thickness)
    return width + 4, height + baseline + 4, baseline


def layout(recognition: Recognition, confidence_threshold: float, shape: tuple[int, ...], thickness: int) -> Overlay:
    """Where everything goes: one rectangle per distinct entity box (in its first entity's type
    colour), a "TYPE text 0.93" label per entity with a box, near the box's top-left corner and moved
    so that no two labels overlap, and the matching score with the gate's decision top left."""
    gate = f"match {recognition.image_text_match:.2f} gate {'open' if recognition.image_used else 'closed'}"
    width, height, _ = text_size(gate, thickness)
    labels = [Label(gate, OTHER_COLOUR, (0, 0, width, height))]
    by_box: dict[Box, list[RecognizedEntity]] = {}
    for entity in recognition.entities:
        if entity.box is not None and entity.confidence >= confidence_threshold:
            by_box.setdefault(entity.box, []).append(entity)
    rectangles = [(box, COLOURS.get(entities[0].type, OTHER_COLOUR)) for box, entities in by_box.items()]
    for box, entities in by_box.items():
        for entity in entities:
            text = f"{entity.type} {entity.text} {entity.confidence:.2f}"
            width, height, _ = text_size(text, thickness)
            spot = _free_spot((width, height), (box.x, box.y - height), [label.spot for label in labels], shape)
            labels.append(Label(text, COLOURS.get(entity.type, OTHER_COLOUR), spot))
    return Overlay(rectangles, labels)


def draw_entities(rgb: np.ndarray, recognition: Recognition, confidence_threshold: float) -> np.ndarray:
    """A copy of ``rgb`` with the ``layout`` drawn on it."""
    canvas = rgb.copy()
    thickness = max(1, round(max(rgb.shape[:2]) / 400))
    overlay = layout(recognition, confidence_threshold, rgb.shape, thickness)
    for box, colour in overlay.rectangles:
        cv2.rectangle(canvas, (box.x, box.y), (box.x + box.width - 1, box.y + box.height - 1), colour, thickness)
    for label in overlay.labels:
        x0, y0, x1, y1 = label.spot
        _, _, baseline = text_size(label.text, thickness)
        cv2.rectangle(canvas, (x0, y0), (x1 - 1, y1 - 1), (0, 0, 0), -1)
        cv2.putText(canvas, label.text, (x0 + 2, y1 - baseline - 1), FONT, 0.4 * thickness, label.colour, thickness,
                    cv2.LINE_AA)
    return canvas
