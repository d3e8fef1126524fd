"""Training benchmarks on the CPU (embedded preset): an image-bearing 1-epoch run with a cold and a warm
feature cache, and 2-process (torchrun, gloo) vs 1-process training steps/s with the same global batch.

Builds its data in a temporary folder: IMAGES JPEG photos (scikit-image samples, randomly cropped,
flipped and recoloured) and one robot command per photo (CoNLL with IMGID lines, types OBJECT and
ROOM). Each run is ``python -m training train`` as a user types it; the figures come from its log.

    .venv/bin/python scripts/bench_training.py [--images 200] [--epochs 1]
"""
from __future__ import annotations

import argparse
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2

from training.visual_check import augment, base_images

REPO = Path(__file__).resolve().parents[1]
ROOMS = ["kitchen", "hall", "office", "garage", "bedroom", "lab", "workshop", "garden"]
OBJECTS = [["red", "cup"], ["blue", "box"], ["keys"], ["green", "bottle"], ["laptop"], ["toolbox"], ["mug"]]


def write_data(folder: Path, count: int) -> Path:
    """``count`` photos in folder/images and commands.txt, one command per photo."""
    rng = random.Random(0)
    photos = [image for images in base_images(random.Random(0)).values() for image in images]
    (folder / "images").mkdir(parents=True)
    blocks = []
    for i in range(count):
        photo = augment(rng.choice(photos), rng)
        cv2.imwrite(str(folder / "images" / f"{i}.jpg"), cv2.cvtColor(photo, cv2.COLOR_RGB2BGR))
        thing, room = rng.choice(OBJECTS), rng.choice(ROOMS)
        words = ["please", "take", "the", *thing, "to", "the", room]
        tags = ["O", "O", "O", "B-OBJECT"] + ["I-OBJECT"] * (len(thing) - 1) + ["O", "O", "B-ROOM"]
        blocks.append(f"IMGID:{i}\n" + "\n".join(f"{w}\t{t}" for w, t in zip(words, tags, strict=True)))
    (folder / "commands.txt").write_text("\n\n".join(blocks) + "\n")
    return folder / "commands.txt"


def run(command: list[str]) -> tuple[float, str]:
    started = time.perf_counter()
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"failed ({result.returncode}): {' '.join(command)}\n{result.stderr[-3000:]}")
    return time.perf_counter() - started, result.stderr


def figures(log: str) -> dict[str, float]:
    """Feature-stage seconds (train + valid), epoch seconds (training steps only) and steps of a run's log."""
    features = sum(float(s) for s in re.findall(r"image features of \d+ files: .* \(([\d.]+) s\)", log))
    epochs = [float(s) for s in re.findall(r"epoch \d+: \{'epoch': \d+, 'seconds': ([\d.]+)", log)]
    steps = [int(s) for s in re.findall(r"epoch \d+: 100%\|.*?\| (\d+)/\1", log)]
    return {"features_s": features, "epoch_s": sum(epochs), "steps": sum(steps)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--epochs", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        data = write_data(tmp, args.images)
        train = [sys.executable, "-m", "training", "--threads", "2", "train", "--train", str(data), "--valid",
                 str(data), "--epochs", str(args.epochs), "--device", "cpu", "--batch-size", "16"]
        images = ["--images", str(tmp / "images"), "--feature-cache", str(tmp / "cache"), "--workers", "1"]
        print(f"{args.images} sentences with a photo each, embedded preset, {args.epochs} epoch(s), batch 16")
        print("| run | wall s | image features s (train + valid) | training s | steps |")
        print("|---|---|---|---|---|")
        for name in ("cold feature cache", "warm feature cache"):
            wall, log = run([*train, *images, "--out", str(tmp / name.split()[0])])
            f = figures(log)
            print(f"| {name} | {wall:.1f} | {f['features_s']:.1f} | {f['epoch_s']:.1f} | {f['steps']} |")
        print()
        print("| text only, same global batch 16 | wall s | training s | steps | steps/s |")
        print("|---|---|---|---|---|")
        torchrun = [str(Path(sys.executable).parent / "torchrun"), "--standalone", "--nproc_per_node", "2", "-m",
                    "training", "--threads", "1", *train[5:]]
        for name, command in (("1 process, 2 threads", train), ("2 processes (torchrun, gloo), 1 thread each",
                                                                 torchrun)):
            wall, log = run([*command, "--out", str(tmp / name.split()[0])])
            f = figures(log)
            print(f"| {name} | {wall:.1f} | {f['epoch_s']:.1f} | {f['steps']} | {f['steps'] / f['epoch_s']:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
