"""Twitter-2015/2017 CoNLL files (``IMGID:`` line, ``token<TAB>tag`` lines, blank line between tweets)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from mlnet_ros.core.labels import LABELS, normalize_tag

DEFAULT_DATA_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data"


class DataError(ValueError):
    """A data file is missing or malformed; the message is one line naming the file."""


@dataclass
class Sentence:
    image_id: str | None
    tokens: list[str]
    tags: list[str]  # in this project's label set (OTHER → MISC), as written (stray I- kept)


def read_conll(path: Path) -> list[Sentence]:
    """Read a CoNLL file with or without ``IMGID:`` lines; tags may be absent (then all "O")."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as error:
        raise DataError(f"{path}: unreadable ({error})") from None
    sentences: list[Sentence] = []
    image_id, tokens, tags = None, [], []

    def flush():
        nonlocal image_id, tokens, tags
        if tokens:
            sentences.append(Sentence(image_id, tokens, tags))
        image_id, tokens, tags = None, [], []

    for number, line in enumerate(lines, start=1):
        if not line.strip():
            flush()
            continue
        if line.startswith("IMGID:"):
            flush()
            image_id = line[len("IMGID:"):].strip()
            continue
        fields = line.split("\t") if "\t" in line else line.split()
        tag = normalize_tag(fields[-1]) if len(fields) > 1 else "O"
        if tag not in LABELS:
            raise DataError(f"{path}:{number}: tag {fields[-1]!r} is not in the label set {list(LABELS)}")
        tokens.append(fields[0])
        tags.append(tag)
    flush()
    if not sentences:
        raise DataError(f"{path}: no sentences")
    return sentences


def dataset_file(data_dir: Path, dataset: str, split: str) -> Path:
    """``<data_dir>/<dataset>/<split>.txt``, e.g. dataset "twitter2015", split "valid"."""
    return Path(data_dir) / dataset / f"{split}.txt"


def load_image(folder: Path, image_id: str | None) -> np.ndarray | None:
    """``<folder>/<image_id>.jpg`` as (H, W, 3) uint8 RGB, or None if absent or unreadable."""
    if image_id is None:
        return None
    bgr = cv2.imread(str(Path(folder) / f"{image_id}.jpg"), cv2.IMREAD_COLOR)
    if bgr is None:
        return None
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
