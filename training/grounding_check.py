"""Grounding check: does an entity's box point at the thing the sentence names?

Each scene (``training.composed_scenes``) pastes a person photo and an object photo at random,
non-overlapping places on a larger noisy background; the sentence, from the visual check's test
templates, names a person and an organisation or product from the test context lists ("Another
photo of Usain Bolt and Intel for you"). The recogniser runs on the scene as the node would (region
proposals on the raw pixels). A hit: the entity at that span has a box (the gate was open) that
contains the centre of its pasted photo. The box says where the words looked, not who anyone is.
"""
from __future__ import annotations

import random

from mlnet_ros.inference.pipeline import EntityRecognizer
from training.composed_scenes import OBJECT_KINDS, compose_scene, contains_centre
from training.visual_check import CONTEXT_ENTITIES, TEMPLATES, base_images


def grounding_check(recognizer: EntityRecognizer, scenes: int = 100, seed: int = 13) -> dict[str, float]:
    """Share of ``scenes`` composed scenes whose person / object entity's box contains its photo's centre."""
    rng = random.Random(f"grounding-{seed}")
    sources = base_images(random.Random(seed))
    things = [(kind, image) for kind in OBJECT_KINDS for image in sources[kind]]
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
        person_hits += contains_centre(boxes.get(person_name), person_box)
        thing_hits += contains_centre(boxes.get(thing_name), thing_box)
        gate_open += recognition.image_used
        distinct += boxes.get(person_name) is not None and boxes.get(person_name) != boxes.get(thing_name)
    return {
        "scenes": scenes,
        "person_box_on_person_pct": round(100 * person_hits / scenes, 1),
        "object_box_on_object_pct": round(100 * thing_hits / scenes, 1),
        "gate_open_pct": round(100 * gate_open / scenes, 1),
        "different_boxes_pct": round(100 * distinct / scenes, 1),
    }
