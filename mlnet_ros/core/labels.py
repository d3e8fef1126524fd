"""The entity types, the BIO label set (9 labels) and the entity-span rules shared by decoding and evaluation."""
from __future__ import annotations

from collections.abc import Sequence

ENTITY_TYPES = ("PER", "LOC", "ORG", "MISC")
LABELS: tuple[str, ...] = ("O",) + tuple(f"{p}-{t}" for t in ENTITY_TYPES for p in ("B", "I"))
LABEL_TO_ID = {label: i for i, label in enumerate(LABELS)}


def bio_labels(types: Sequence[str]) -> tuple[str, ...]:
    """The BIO label set of ``types``: "O", then B- and I- of each type, in the given order."""
    return ("O",) + tuple(f"{prefix}-{kind}" for kind in types for prefix in ("B", "I"))


def normalize_tag(tag: str) -> str:
    """Map a dataset tag to this label set (Twitter-2015 says OTHER where the paper says MISC)."""
    return tag.replace("OTHER", "MISC")


def entity_spans(tags: list[str]) -> list[tuple[str, int, int]]:
    """Entities as (type, first index, end index exclusive), following seqeval's default rules.

    An entity starts at a B- tag, or at an I- tag whose previous tag is not of the same type
    (a "stray" I-); it continues over I- tags of its type.
    """
    spans: list[tuple[str, int, int]] = []
    current: list = []  # [type, start]
    for i, tag in enumerate(tags):
        prefix, _, kind = tag.partition("-")
        continues = prefix == "I" and current and current[0] == kind
        if current and not continues:
            spans.append((current[0], current[1], i))
            current = []
        if prefix == "B" or (prefix == "I" and not continues):
            current = [kind, i]
    if current:
        spans.append((current[0], current[1], len(tags)))
    return spans


def repair_bio(tags: list[str]) -> list[str]:
    """Rewrite stray I- tags as B- tags: the same entities, but a valid BIO sequence."""
    repaired = []
    previous = "O"
    for tag in tags:
        if tag.startswith("I-") and previous[2:] != tag[2:]:
            tag = "B-" + tag[2:]
        repaired.append(tag)
        previous = tag
    return repaired


def allowed_transition(previous: str, current: str) -> bool:
    """Whether BIO allows ``current`` right after ``previous`` (use "O" for the start state)."""
    if not current.startswith("I-"):
        return True
    return previous != "O" and previous[2:] == current[2:]
