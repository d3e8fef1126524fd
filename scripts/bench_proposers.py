"""Region proposers side by side on composed scenes like the grounding check's: how often some proposal crop
holds the pasted person's / object's centre, and the median time per 640 x 480 scene.

    .venv/bin/python scripts/bench_proposers.py --scenes 100
"""
from __future__ import annotations

import argparse
import random
import statistics
import time

from mlnet_ros.core.config import PROPOSERS
from mlnet_ros.inference.region_proposals import proposer_for
from training.composed_scenes import OBJECT_KINDS, compose_scene, contains_centre
from training.visual_check import base_images


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=100)
    parser.add_argument("--crops", type=int, default=3, help="proposals per scene (the model's s)")
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    rng = random.Random(f"grounding-{args.seed}")
    sources = base_images(random.Random(args.seed))
    things = [image for kind in OBJECT_KINDS for image in sources[kind]]
    scenes = [compose_scene(rng, rng.choice(sources["PER"]), rng.choice(things)) for _ in range(args.scenes)]
    for name in PROPOSERS:
        proposer = proposer_for(name)
        person = thing = 0
        seconds = []
        for scene, person_box, thing_box in scenes:
            started = time.perf_counter()
            boxes = proposer.propose(scene, args.crops)
            seconds.append(time.perf_counter() - started)
            person += any(contains_centre(box, person_box) for box in boxes)
            thing += any(contains_centre(box, thing_box) for box in boxes)
        share = {"person": 100 * person / len(scenes), "object": 100 * thing / len(scenes)}
        print(f"{name:16s} person centre in a crop {share['person']:5.1f} %, object {share['object']:5.1f} %, "
              f"median {1000 * statistics.median(seconds):.1f} ms per scene")


if __name__ == "__main__":
    main()
