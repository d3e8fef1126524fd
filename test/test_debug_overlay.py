"""The debug image's layout: one rectangle per distinct box, labels that never overlap, the gate score."""
from __future__ import annotations

import itertools

import numpy as np

from mlnet_ros.core.results import Box, Recognition, RecognizedEntity
from mlnet_ros.ros.debug_overlay import COLOURS, draw_entities, layout

PERSON, LOGO = Box(200, 150, 100, 200), Box(40, 20, 60, 60)


def recognition(*entities: RecognizedEntity) -> Recognition:
    return Recognition("t", entities, image_text_match=0.83, image_used=True, inference_ms=1.0)


def entity(text: str, kind: str, box: Box | None, confidence: float = 0.9) -> RecognizedEntity:
    return RecognizedEntity(text, kind, 0, len(text), confidence, box)


def overlapping(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def test_entities_sharing_a_box_get_one_rectangle_and_separate_labels():
    answer = recognition(entity("Eileen Collins", "PER", PERSON), entity("Tom Hanks", "PER", PERSON),
                         entity("NASA", "ORG", LOGO), entity("Houston", "LOC", None),
                         entity("Kelso", "MISC", LOGO, confidence=0.2))
    overlay = layout(answer, 0.5, (480, 640, 3), thickness=1)
    assert overlay.rectangles == [(PERSON, COLOURS["PER"]), (LOGO, COLOURS["ORG"])]
    assert [label.text for label in overlay.labels] == [
        "match 0.83 gate open", "PER Eileen Collins 0.90", "PER Tom Hanks 0.90", "ORG NASA 0.90"]
    for a, b in itertools.combinations([label.spot for label in overlay.labels], 2):
        assert not overlapping(a, b), (a, b)
    for x0, y0, x1, y1 in (label.spot for label in overlay.labels):
        assert 0 <= x0 < x1 <= 640 and 0 <= y0 < y1 <= 480


def test_many_labels_on_one_box_at_the_top_edge_stay_apart_and_inside():
    answer = recognition(*(entity(f"Name{i}", "PER", Box(0, 0, 50, 50)) for i in range(8)))
    overlay = layout(answer, 0.0, (200, 300, 3), thickness=1)
    spots = [label.spot for label in overlay.labels]
    assert len(overlay.rectangles) == 1 and len(spots) == 9
    for a, b in itertools.combinations(spots, 2):
        assert not overlapping(a, b), (a, b)
    assert all(y0 >= 0 and y1 <= 200 for _, y0, _, y1 in spots)


def test_drawing_keeps_the_frame_size_and_leaves_the_input_alone():
    frame = np.full((480, 640, 3), 128, np.uint8)
    drawn = draw_entities(frame, recognition(entity("Eileen Collins", "PER", PERSON)), 0.5)
    assert drawn.shape == frame.shape and drawn.dtype == np.uint8
    assert (frame == 128).all() and not np.array_equal(drawn, frame)
    bottom = PERSON.y + PERSON.height - 1  # the label goes above the box: its bottom edge is clear
    assert tuple(drawn[bottom, PERSON.x + PERSON.width // 2]) == COLOURS["PER"]
