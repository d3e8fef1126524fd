"""mlnet_tag: tag one transcript (and optionally an image) without ROS; JSON on stdout.

    mlnet_tag "Eileen Collins flew for NASA" --image photo.jpg

``--model`` takes a checkpoint or a deploy bundle (``mlnet_export --out``; loaded by onnxruntime
without torch). User mistakes (missing or unreadable image, missing or corrupt model, a backend that
cannot run it) print one line on stderr and exit with status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2

from mlnet_ros.core.checkpoint_files import ModelLoadError
from mlnet_ros.inference.backends import BACKENDS, BackendUnavailable, load_backend
from mlnet_ros.inference.encoded_image import MAX_PIXELS, encode
from mlnet_ros.paths import default_model_dir


class UsageError(Exception):
    """A mistake of the user, reported in one line."""


def read_rgb(path: Path):
    if not path.is_file():
        raise UsageError(f"image file not found: {path}")
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise UsageError(f"cannot read image (not an image OpenCV can decode): {path}")
    if bgr.shape[0] * bgr.shape[1] > MAX_PIXELS:
        raise UsageError(f"image {bgr.shape[1]}x{bgr.shape[0]} is larger than 7680x4320: {path}")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def tag(args: argparse.Namespace) -> dict:
    if not args.transcript.strip():
        raise UsageError("the transcript is empty")
    rgb = read_rgb(args.image) if args.image is not None else None
    try:
        recognizer = load_backend(args.model_dir, backend=args.backend, device=args.device)
    except (ModelLoadError, BackendUnavailable) as error:
        raise UsageError(str(error)) from None
    image = encode(recognizer, rgb) if rgb is not None else None
    recognition = recognizer.recognize(args.transcript, image.features if image else None)
    entities = []
    for entity in sorted(recognition.entities, key=lambda e: e.start):
        box = None
        if recognition.image_used and image is not None and entity.box is not None:
            b = image.to_source(entity.box)
            box = {"x": b.x, "y": b.y, "width": b.width, "height": b.height}
        entities.append(
            {
                "text": args.transcript[entity.start : entity.end],
                "type": entity.type,
                "start": entity.start,
                "end": entity.end,
                "confidence": round(float(entity.confidence), 4),
                "box": box,
            }
        )
    return {
        "transcript": args.transcript,
        "entities": entities,
        "image_text_match": round(float(recognition.image_text_match), 4),
        "image_used": recognition.image_used,
        "model": recognizer.model_name,
        "backend": recognizer.backend,
        "inference_ms": round(recognition.inference_ms, 1),
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="mlnet_tag", description=__doc__.splitlines()[0])
    parser.add_argument("transcript", help="text to tag")
    parser.add_argument("--image", type=Path, help="photo giving visual context (jpg, png, ...)")
    parser.add_argument(
        "--model", "--model-dir", dest="model_dir",
        type=Path,
        default=default_model_dir(),
        help="checkpoint or deploy bundle directory (default: the embedded model)",
    )
    parser.add_argument("--backend", choices=("auto", *BACKENDS), default="auto")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        result = tag(args)
    except UsageError as error:
        print(f"mlnet_tag: error: {error}", file=sys.stderr)
        return 2
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
