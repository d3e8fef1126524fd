"""The spoken form of a sentence: what a speech recogniser emits, and training-time augmentation toward it.

Vosk/Kaldi-style recognisers write lower-case words without punctuation; speakers add fillers
("um", "you know") and repeat words ("to to"). All transforms keep tags aligned with tokens and
keep every entity's type and (lower-cased) words; none mutates its input.
"""
from __future__ import annotations

import random
from dataclasses import asdict, dataclass

from training.data import Sentence

FILLERS: tuple[str, ...] = ("um", "uh", "er", "hmm", "like", "you know")


def is_punctuation(token: str) -> bool:
    """True for a token with no letter or digit, e.g. ``,`` ``!`` ``...`` ``:)`` ``@``."""
    return not any(character.isalnum() for character in token)


def repair_bio(tags: list[str]) -> list[str]:
    """Rewrite each I-X that does not follow B-X or I-X as B-X."""
    repaired: list[str] = []
    for tag in tags:
        previous = repaired[-1] if repaired else "O"
        if tag.startswith("I-") and previous[2:] != tag[2:]:
            tag = "B-" + tag[2:]
        repaired.append(tag)
    return repaired


def to_spoken(sentence: Sentence, lowercase: bool = True, strip_punctuation: bool = True) -> Sentence:
    """The recogniser's form: tokens lower-cased, punctuation-only tokens dropped with their tags.

    ``@user``, ``#tag`` and URLs stay (lower-cased). A sentence of punctuation only becomes empty.
    """
    pairs = list(zip(sentence.tokens, sentence.tags))
    if strip_punctuation:
        pairs = [(token, tag) for token, tag in pairs if not is_punctuation(token)]
    tokens = [token.lower() if lowercase else token for token, _ in pairs]
    return Sentence(sentence.image_id, tokens, repair_bio([tag for _, tag in pairs]))


def _insertion_points(tags: list[str]) -> list[int]:
    """Positions where inserting a token splits no entity: anywhere but right before an I- tag."""
    return [i for i in range(len(tags) + 1) if i == len(tags) or not tags[i].startswith("I-")]


def add_disfluencies(sentence: Sentence, rng: random.Random, filler_rate: float, repeat_rate: float) -> Sentence:
    """With probability ``filler_rate`` insert one or two fillers (tagged O); with probability
    ``repeat_rate`` say one O word twice. Never inside an entity; an empty sentence stays empty."""
    tokens, tags = list(sentence.tokens), list(sentence.tags)
    if not tokens:
        return Sentence(sentence.image_id, tokens, tags)
    if rng.random() < repeat_rate:
        words = [i for i, (token, tag) in enumerate(zip(tokens, tags)) if tag == "O" and not is_punctuation(token)]
        if words:
            i = rng.choice(words)
            if i + 1 in _insertion_points(tags):
                tokens.insert(i + 1, tokens[i])
                tags.insert(i + 1, "O")
    if rng.random() < filler_rate:
        for _ in range(rng.choice((1, 2))):
            position = rng.choice(_insertion_points(tags))
            filler = rng.choice(FILLERS).split()
            tokens[position:position] = filler
            tags[position:position] = ["O"] * len(filler)
    return Sentence(sentence.image_id, tokens, tags)


def spoken_with_fillers(sentence: Sentence, rng: random.Random) -> Sentence:
    """Evaluation condition "spoken form with fillers": ``to_spoken`` plus one or two fillers."""
    return add_disfluencies(to_spoken(sentence), rng, filler_rate=1.0, repeat_rate=0.0)


@dataclass(frozen=True)
class SpeechAugmentation:
    """How much of a training set ``augment`` turns toward the spoken form (kept in a checkpoint)."""

    share: float = 0.5  # fraction of sentences transformed
    lowercase: bool = True
    strip_punctuation: bool = True
    filler_rate: float = 0.3  # per transformed sentence: chance of one or two fillers
    repeat_rate: float = 0.2  # per transformed sentence: chance of one repeated O word

    def __post_init__(self):
        for name in ("share", "filler_rate", "repeat_rate"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"SpeechAugmentation.{name} must be in [0, 1], got {getattr(self, name)}")

    def to_dict(self) -> dict:
        return asdict(self)


def augment(sentences: list[Sentence], settings: SpeechAugmentation, rng: random.Random) -> list[Sentence]:
    """A new list, same length and order, with ``round(share * len)`` sentences (chosen by ``rng``)
    in spoken form plus disfluencies; the others are copies. Deterministic for a given rng state."""
    chosen = set(rng.sample(range(len(sentences)), round(settings.share * len(sentences))))
    augmented = []
    for i, sentence in enumerate(sentences):
        if i in chosen:
            spoken = to_spoken(sentence, settings.lowercase, settings.strip_punctuation)
            augmented.append(add_disfluencies(spoken, rng, settings.filler_rate, settings.repeat_rate))
        else:
            augmented.append(Sentence(sentence.image_id, list(sentence.tokens), list(sentence.tags)))
    return augmented


FORMS = ("written", "spoken", "spoken-fillers")


def in_form(sentences: list[Sentence], form: str, seed: int = 0) -> list[Sentence]:
    """Evaluation data in ``form``: ``written`` (as read), ``spoken`` (``to_spoken``) or ``spoken-fillers``
    (``spoken_with_fillers``, fillers drawn with ``seed``). Sentences left without a token are dropped."""
    if form == "written":
        return list(sentences)
    if form not in FORMS:
        raise ValueError(f"unknown form {form!r} (choose from {', '.join(FORMS)})")
    rng = random.Random(seed)
    converted = [to_spoken(s) if form == "spoken" else spoken_with_fillers(s, rng) for s in sentences]
    return [s for s in converted if s.tokens]
