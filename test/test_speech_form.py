"""The spoken form and speech augmentation keep every entity and never split one."""
import copy
import random

import pytest
from support.bio import entities

from training.data import Sentence
from training.speech_form import (
    FILLERS,
    SpeechAugmentation,
    add_disfluencies,
    augment,
    in_form,
    is_punctuation,
    repair_bio,
    spoken_with_fillers,
    to_spoken,
)

FILLER_WORDS = {word for filler in FILLERS for word in filler.split()}


def assert_valid_bio(tags: list[str]) -> None:
    for previous, tag in zip(["O"] + tags, tags):
        assert not tag.startswith("I-") or previous[2:] == tag[2:], tags


def sentence(*pairs: str) -> Sentence:
    """Sentence("word/B-PER", "word", ...): a token without a /B- or /I- tag is O."""
    tokens, tags = [], []
    for pair in pairs:
        token, _, tag = pair.rpartition("/")
        if not tag.startswith(("B-", "I-")):
            token, tag = pair, "O"
        tokens.append(token)
        tags.append(tag)
    return Sentence("img1", tokens, tags)


EXAMPLES = [
    sentence("Bring", "the", "iPhone/B-MISC", "15/I-MISC", "to", "Dr", ".", "Amara/B-PER", "Nwosu/I-PER", "!"),
    sentence("St/B-ORG", "./I-ORG", "Mary's/I-ORG", "Hospital/I-ORG", ",", "Lisbon/B-LOC", ",", "Porto/B-LOC", "..."),
    sentence("RT", "@UserName", ":", "#/B-ORG", "NewYorkMets/I-ORG", "at", "http://t.co/AbC", ":)"),
    sentence("Hey", "Priya/B-PER", "-", "meet", "me", "at", "gate/B-LOC", "B12/I-LOC", "?"),
]


def test_is_punctuation():
    assert all(is_punctuation(t) for t in [",", "!", "...", ":)", "@", "#", "…", "-"])
    assert not any(is_punctuation(t) for t in ["@user", "#tag", "http://t.co/x", "B12", "15", "Mary's", "é"])


def test_to_spoken_lowercases_and_drops_punctuation_only():
    spoken = to_spoken(EXAMPLES[2])
    assert spoken.tokens == ["rt", "@username", "newyorkmets", "at", "http://t.co/abc"]
    assert spoken.tags == ["O", "O", "B-ORG", "O", "O"]
    assert spoken.image_id == "img1"


@pytest.mark.parametrize("example", EXAMPLES)
def test_to_spoken_keeps_entity_types_and_words(example):
    spoken = to_spoken(example)
    expected = [
        (kind, [t.lower() for t in words if not is_punctuation(t)]) for kind, words in entities(example)
    ]
    assert entities(spoken) == [(kind, words) for kind, words in expected if words]
    assert len(spoken.tokens) == len(spoken.tags)
    assert_valid_bio(spoken.tags)
    assert not any(is_punctuation(t) or t != t.lower() for t in spoken.tokens)


def test_to_spoken_repairs_an_i_tag_left_without_its_b():
    assert to_spoken(EXAMPLES[2]).tags[2] == "B-ORG"  # "#" (B-ORG) dropped, "newyorkmets" was I-ORG
    assert repair_bio(["O", "I-PER", "I-PER", "I-LOC", "B-LOC", "I-LOC"]) == [
        "O", "B-PER", "I-PER", "B-LOC", "B-LOC", "I-LOC"
    ]


def test_to_spoken_options_and_empty_sentence():
    kept = to_spoken(EXAMPLES[0], lowercase=False)
    assert kept.tokens == ["Bring", "the", "iPhone", "15", "to", "Dr", "Amara", "Nwosu"]
    unpunctuated = to_spoken(EXAMPLES[0], strip_punctuation=False)
    assert unpunctuated.tokens[-1] == "!" and unpunctuated.tokens[2] == "iphone"
    empty = to_spoken(sentence("!", "...", ":)"))
    assert empty.tokens == [] and empty.tags == []


def test_inputs_are_never_mutated():
    originals = copy.deepcopy(EXAMPLES)
    rng = random.Random(0)
    for example in EXAMPLES:
        to_spoken(example)
        spoken_with_fillers(example, rng)
        add_disfluencies(example, rng, filler_rate=1.0, repeat_rate=1.0)
    augment(EXAMPLES * 50, SpeechAugmentation(share=1.0, filler_rate=1.0, repeat_rate=1.0), rng)
    assert originals == EXAMPLES


def test_disfluencies_never_split_an_entity():
    rng = random.Random(1)
    for _ in range(300):
        for example in EXAMPLES:
            disfluent = add_disfluencies(example, rng, filler_rate=1.0, repeat_rate=1.0)
            assert entities(disfluent) == entities(example)
            assert_valid_bio(disfluent.tags)
            added = len(disfluent.tokens) - len(example.tokens)
            assert 1 <= added <= 5  # one or two fillers (up to two words each), at most one repeat


def test_spoken_with_fillers_adds_fillers_to_the_spoken_form():
    rng = random.Random(2)
    for example in EXAMPLES:
        spoken = to_spoken(example)
        with_fillers = spoken_with_fillers(example, rng)
        assert entities(with_fillers) == entities(spoken)
        extra = list(with_fillers.tokens)
        for token in spoken.tokens:
            extra.remove(token)
        assert extra and set(extra) <= FILLER_WORDS
        assert all(tag == "O" for token, tag in zip(with_fillers.tokens, with_fillers.tags) if token in extra)


def test_repeat_doubles_one_o_word():
    rng = random.Random(3)
    example = EXAMPLES[3]
    repeated = add_disfluencies(example, rng, filler_rate=0.0, repeat_rate=1.0)
    assert len(repeated.tokens) == len(example.tokens) + 1
    doubled = [i for i in range(len(repeated.tokens) - 1) if repeated.tokens[i] == repeated.tokens[i + 1]]
    assert len(doubled) == 1 and repeated.tags[doubled[0]] == repeated.tags[doubled[0] + 1] == "O"


def many_sentences(count: int) -> list[Sentence]:
    return [EXAMPLES[i % len(EXAMPLES)] for i in range(count)]


def test_augment_transforms_about_share_of_sentences():
    sentences = many_sentences(1000)
    augmented = augment(sentences, SpeechAugmentation(share=0.5), random.Random(4))
    assert len(augmented) == len(sentences)
    changed = sum(a != s for a, s in zip(augmented, sentences))
    assert abs(changed / len(sentences) - 0.5) <= 0.06
    for original, result in zip(sentences, augmented):
        if result != original:
            assert not any(t != t.lower() or is_punctuation(t) for t in result.tokens)
        assert_valid_bio(result.tags)
        spoken_words = [(kind, [t.lower() for t in w if not is_punctuation(t)]) for kind, w in entities(original)]
        assert entities(to_spoken(result)) == [(kind, w) for kind, w in spoken_words if w]


def test_augment_share_zero_and_one():
    sentences = many_sentences(40)
    assert augment(sentences, SpeechAugmentation(share=0.0), random.Random(0)) == sentences
    everything = augment(sentences, SpeechAugmentation(share=1.0, filler_rate=0.0, repeat_rate=0.0), random.Random(0))
    assert everything == [to_spoken(s) for s in sentences]


def test_augment_is_deterministic_per_seed():
    sentences = many_sentences(200)
    settings = SpeechAugmentation()
    first = augment(sentences, settings, random.Random(7))
    assert augment(sentences, settings, random.Random(7)) == first
    assert augment(sentences, settings, random.Random(8)) != first


def test_settings_to_dict_and_validation():
    settings = SpeechAugmentation(share=0.25, lowercase=False)
    assert settings.to_dict() == {
        "share": 0.25, "lowercase": False, "strip_punctuation": True, "filler_rate": 0.3, "repeat_rate": 0.2
    }
    assert SpeechAugmentation(**settings.to_dict()) == settings
    with pytest.raises(ValueError, match="share"):
        SpeechAugmentation(share=1.5)


def test_in_form_converts_each_form_and_drops_emptied_sentences():
    sentences = [Sentence(None, ["Hi", "Anna", "!"], ["O", "B-PER", "O"]), Sentence(None, ["!", "?"], ["O", "O"])]
    assert in_form(sentences, "written") == sentences
    assert [(s.tokens, s.tags) for s in in_form(sentences, "spoken")] == [(["hi", "anna"], ["O", "B-PER"])]
    with_fillers = in_form(sentences, "spoken-fillers", seed=3)
    assert len(with_fillers) == 1 and len(with_fillers[0].tokens) > 2
    assert with_fillers == in_form(sentences, "spoken-fillers", seed=3)
    with pytest.raises(ValueError, match="unknown form"):
        in_form(sentences, "sung")
