"""A team's own CoNLL files for training: strict reading, and the Twitter names as shorthands.

Format: optional ``IMGID: <id>`` lines, one ``token<TAB>tag`` (or whitespace-separated, tag last)
line per word, a blank line between sentences; tags O, B-TYPE, I-TYPE for any TYPE, BIO or IOB1
(an I- that starts an entity is read as B-, and counted). A line with only a token is tagged O.
Every problem is a DataError naming ``file:line``.
"""
from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Collection
from pathlib import Path

from mlnet_ros.core.labels import entity_spans, repair_bio
from training.data import DataError, Sentence, dataset_file

ASCII_SPACE = " \r\n\v\f"
DATASETS = ("twitter2015", "twitter2017")  # shorthands for <data dir>/<name>/<split>.txt
TAG_PATTERN = re.compile(r"O|[BI]-\S+")
log = logging.getLogger("training")


def split_files(names: list[str], data_dir: Path, split: str) -> list[Path]:
    """Paths of ``names``: a Twitter shorthand means its ``split`` file in ``data_dir``, anything else is a path."""
    return [dataset_file(data_dir, name, split) if name in DATASETS else Path(name) for name in names]


def decode_utf8(path: Path) -> str:
    """The file's text (a UTF-8 byte-order mark dropped); a missing file or a non-UTF-8 byte is a DataError."""
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except OSError as error:
        raise DataError(f"{path}: unreadable ({error.strerror})") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        column = error.start - (raw.rfind(b"\n", 0, error.start) + 1) + 1
        raise DataError(f"{path}:{line}: byte 0x{raw[error.start]:02x} at column {column} is not UTF-8") from None


def read_tagged_file(path: Path, types: Collection[str] | None = None, types_name: str = "--types") -> list[Sentence]:
    """Sentences of one CoNLL file; with ``types``, a tag of another type is an error naming ``types_name``.

    Twitter-2015's type OTHER is read as MISC unless ``types`` lists OTHER.
    """
    path = Path(path)
    text = decode_utf8(path)
    if not text.strip():
        raise DataError(f"{path}: empty file")
    rename_other = types is None or "OTHER" not in types
    sentences: list[Sentence] = []
    image_id, tokens, tags = None, [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith("IMGID:"):
            if tokens:
                sentences.append(Sentence(image_id, tokens, tags))
            image_id, tokens, tags = None, [], []
            if line.startswith("IMGID:"):
                image_id = line[len("IMGID:"):].strip() or None
            continue
        # ASCII whitespace only: Twitter-2015 has a token that is a no-break space (U+00A0)
        fields = [f.strip(ASCII_SPACE) for f in line.split("\t")] if "\t" in line else line.split()
        if not fields[0]:
            raise DataError(f"{path}:{number}: no token before the tag ({line.strip()!r})")
        tag = fields[-1] if len(fields) > 1 else "O"
        if not TAG_PATTERN.fullmatch(tag):
            raise DataError(f"{path}:{number}: tag {tag!r} is not O, B-TYPE or I-TYPE")
        if rename_other and tag[2:] == "OTHER":
            tag = tag[:2] + "MISC"
        if types is not None and tag != "O" and tag[2:] not in types:
            raise DataError(f"{path}:{number}: tag {tag!r} has type {tag[2:]!r}, "
                            f"not one of {types_name}: {', '.join(types)}")
        tokens.append(fields[0])
        tags.append(tag)
    if tokens:
        sentences.append(Sentence(image_id, tokens, tags))
    if not sentences:
        raise DataError(f"{path}: no sentences (only IMGID lines)")
    return sentences


def read_tagged_files(paths: list[Path], types: Collection[str] | None = None, types_name: str = "--types",
                      limit: int | None = None) -> dict[Path, list[Sentence]]:
    """Each file's sentences (the first ``limit`` of each), by path."""
    return {Path(path): read_tagged_file(path, types, types_name)[:limit] for path in paths}


def log_summaries(what: str, files: dict[Path, list[Sentence]]) -> None:
    """One log line per file: sentences, entities per type, and the stray I- tags read as B-."""
    for path, sentences in files.items():
        entities = Counter(kind for s in sentences for kind, _, _ in entity_spans(s.tags))
        repaired = sum(a != b for s in sentences for a, b in zip(s.tags, repair_bio(s.tags), strict=True))
        log.info("%s %s: %d sentences, entities %s, %d stray I- tags read as B-", what, path, len(sentences),
                 dict(sorted(entities.items())) or "none", repaired)


def joined(files: dict[Path, list[Sentence]]) -> list[Sentence]:
    """All sentences of ``files``, file after file."""
    return [s for sentences in files.values() for s in sentences]


def entity_types(sentences: list[Sentence]) -> set[str]:
    """The entity types tagged in ``sentences``."""
    return {tag[2:] for s in sentences for tag in s.tags if tag != "O"}


def run_files(train: list[str], valid: list[str] | None, test: list[str] | None, data_dir: Path):
    """(train paths, valid paths, named test paths) of a run: valid and test default to the splits of
    the Twitter shorthands in ``train``; files given by path need an explicit ``--valid``."""
    if valid is None:
        files = [name for name in train if name not in DATASETS]
        if files:
            raise DataError(f"--valid FILE... is needed with --train files ({', '.join(files)})")
        valid = train
    if test is None:
        test = [name for name in train if name in DATASETS]
    named = {}
    for name, path in zip(test, split_files(test, data_dir, "test"), strict=True):
        label = name if name in DATASETS else path.stem
        named[label if label not in named else f"{label}{len(named)}"] = path
    return split_files(train, data_dir, "train"), split_files(valid, data_dir, "valid"), named
