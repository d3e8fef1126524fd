"""Debug view: the entities' grounding boxes and labels drawn on the image (OpenCV)."""

from __future__ import annotations

import cv2
import numpy as np

from mlnet_ros.core.results import Recognition

# RGB colour per entity type.
_COLOURS = {
    "PER": (255, 64, 64),
    "LOC": (64, 200, 64),
    "ORG": (64, 128, 255),
    "MISC": (255, 200, 0),
}


def draw_entities(
    rgb: np.ndarray, recognition: Recognition, confidence_threshold: float
) -> np.ndarray:
    """A copy of ``rgb`` with a box and a "TYPE text 0.93" label per entity that has a box."""
    canvas = rgb.copy()
    thickness = max(1, round(max(rgb.shape[:2]) / 400))
    for entity in recognition.entities:
        if entity.box is None or entity.confidence < confidence_threshold:
            continue
        colour = _COLOURS.get(entity.type, (255, 255, 255))
        b = entity.box
        cv2.rectangle(
            canvas, (b.x, b.y), (b.x + b.width - 1, b.y + b.height - 1), colour, thickness
        )
        label = f"{entity.type} {entity.text} {entity.confidence:.2f}"
        cv2.putText(
            canvas,
            label,
            (b.x + 2, max(b.y - 4, 12)),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.4 * thickness,
            colour,
            thickness,
            cv2.LINE_AA,
        )
    return canvas
