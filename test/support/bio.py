"""Reading entities back out of BIO tags, for tests that check tag alignment."""
from __future__ import annotations

from mlnet_ros.core.labels import entity_spans
from training.data import Sentence


def entities(sentence: Sentence) -> list[tuple[str, list[str]]]:
    """(type, tokens) of each entity; an I- that does not continue its type starts a new one."""
    return [(kind, sentence.tokens[start:end]) for kind, start, end in entity_spans(sentence.tags)]
