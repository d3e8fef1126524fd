"""CoNLL files of tagged sentences (Twitter-2015/2017: an ``IMGID:`` line, ``token<TAB>tag`` lines,
a blank line between tweets), read without torch or OpenCV: used by training and by ``mlnet_bench``."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mlnet_ros.core.labels import LABELS, normalize_tag


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
