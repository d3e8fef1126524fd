"""Reading entities back out of BIO tags, for tests that check tag alignment."""
from __future__ import annotations

from training.data import Sentence


def entities(sentence: Sentence) -> list[tuple[str, list[str]]]:
    """(type, tokens) of each entity; an I- that does not continue its type starts a new one."""
    found: list[tuple[str, list[str]]] = []
    previous = "O"
    for token, tag in zip(sentence.tokens, sentence.tags):
        if tag.startswith("B-") or (tag.startswith("I-") and previous[2:] != tag[2:]):
            found.append((tag[2:], [token]))
        elif tag.startswith("I-"):
            found[-1][1].append(token)
        previous = tag
    return found
