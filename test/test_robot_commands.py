"""The robot-command generator and the hand-written robot-command test set."""
import random
import re
from collections import Counter
from pathlib import Path

import pytest
from support.bio import entities as bio_entities

from training.data import Sentence, read_conll
from training.robot_commands import (
    _MAKERS,
    ENTITY_LISTS,
    NAMES,
    SPLITS,
    TEMPLATES,
    fill,
    fillers,
    generate,
    main,
    skeleton,
    tokenize,
    write_conll,
)

TEST_FILE = Path(__file__).resolve().parents[1] / "training" / "data" / "robot_commands" / "test.txt"
TYPES = ("PER", "LOC", "ORG", "MISC")
SLOTS = ["first", "surname", "person", *ENTITY_LISTS]


def entities(sentence: Sentence) -> list[tuple[str, str]]:
    """(type, text) of each entity, text being its tokens joined by spaces."""
    return [(kind, " ".join(words)) for kind, words in bio_entities(sentence)]


def assert_valid_bio(sentence: Sentence) -> None:
    assert len(sentence.tokens) == len(sentence.tags) > 0
    for previous, tag in zip(["O"] + sentence.tags, sentence.tags):
        assert tag == "O" or tag[:2] in ("B-", "I-") and tag[2:] in TYPES, sentence
        assert not tag.startswith("I-") or previous[2:] == tag[2:], sentence


@pytest.fixture(scope="module")
def train() -> list[Sentence]:
    return generate(3000, seed=0, split="train")


@pytest.fixture(scope="module")
def valid() -> list[Sentence]:
    return generate(500, seed=1, split="valid")


@pytest.fixture(scope="module")
def test_set() -> list[Sentence]:
    return read_conll(TEST_FILE)


def test_tokenize_like_the_twitter_files_and_the_node():
    assert tokenize("Where is Dr. Okonkwo's office?") == ["Where", "is", "Dr", ".", "Okonkwo's", "office", "?"]
    assert tokenize("Bring the iPhone 15 to gate B12, at 10:30!") == [
        "Bring", "the", "iPhone", "15", "to", "gate", "B12", ",", "at", "10:30", "!"
    ]
    assert tokenize("Ask {first}'s team about {product}.") == ["Ask", "{first}'s", "team", "about", "{product}", "."]


def test_templates_cover_settings_kinds_and_types():
    assert len(TEMPLATES) >= 120
    assert len({t.text for t in TEMPLATES}) == len(TEMPLATES)
    settings = {"home", "office", "hospital", "warehouse", "retail", "airport"}
    pairs = Counter((t.setting, t.kind) for t in TEMPLATES)
    for setting in settings:
        for kind in ("request", "question", "statement"):
            assert pairs[setting, kind] >= 3, (setting, kind)
    without_entity = sum("{" not in t.text for t in TEMPLATES) / len(TEMPLATES)
    assert 0.05 <= without_entity <= 0.15


def test_org_and_misc_slots_have_their_types_and_are_used():
    expected = {
        "company": "ORG", "team": "ORG", "agency": "ORG", "bank": "ORG", "cafe": "ORG", "store": "ORG",
        "brand": "MISC", "apparel": "MISC", "lab_brand": "MISC", "food": "MISC", "app": "MISC",
        "vehicle": "MISC", "show": "MISC", "work": "MISC", "product": "MISC",
    }
    assert {slot: ENTITY_LISTS[slot][0] for slot in expected} == expected
    used = {slot for t in TEMPLATES for slot in re.findall(r"\{(\w+)\}", t.text)}
    assert set(SLOTS) <= used, set(SLOTS) - used
    assert used <= set(SLOTS), used - set(SLOTS)


def test_makers_are_org_as_companies_and_misc_as_brands():
    for split in SPLITS:
        makers = set(fillers("company", split)[1]) & set(fillers("brand", split)[1])
        assert makers and makers <= set(_MAKERS), split
    assert set(_MAKERS) == set(fillers("company", "train")[1] + fillers("company", "valid")[1]) & set(
        fillers("brand", "train")[1] + fillers("brand", "valid")[1]
    )


def test_leading_determiner_of_a_filler_is_o_and_never_doubled(train):
    for sentence in train:
        assert sentence.tokens[0] != "the", sentence
        for (word, tag), (nxt, _) in zip(zip(sentence.tokens, sentence.tags), zip(sentence.tokens[1:], sentence.tags[1:])):
            assert not (word.lower() == "the" and nxt.lower() == "the"), sentence
            assert not (word.lower() == "the" and tag.startswith("B-")), sentence  # "Save the Children" is fine


def test_names_from_many_cultures():
    assert len(NAMES) >= 10
    assert len(fillers("person", "train")[1]) + len(fillers("person", "valid")[1]) >= 300


def test_generate_is_deterministic_per_seed():
    assert generate(200, seed=5) == generate(200, seed=5)
    assert generate(200, seed=5) != generate(200, seed=6)


def test_generated_tags_are_valid_bio_and_cover_all_types(train):
    for sentence in train:
        assert_valid_bio(sentence)
    counts = Counter(kind for sentence in train for kind, _ in entities(sentence))
    assert all(counts[kind] >= 300 for kind in TYPES), counts
    multi_token = Counter(kind for s in train for kind, text in entities(s) if " " in text)
    assert all(multi_token[kind] > 0 for kind in TYPES), multi_token
    per_sentence = Counter(len({kind for kind, _ in entities(s)}) for s in train)
    assert per_sentence[0] / len(train) == pytest.approx(0.10, abs=0.04)
    assert per_sentence[2] + per_sentence[3] >= len(train) // 5  # two or three entity types


def test_uncased_generation_only_lowercases(train):
    uncased = generate(3000, seed=0, cased=False, split="train")
    assert [s.tags for s in uncased] == [s.tags for s in train]
    assert [[t.lower() for t in s.tokens] for s in train] == [s.tokens for s in uncased]


def test_titles_and_determiners_are_outside_entities(train):
    for sentence in train:
        for _kind, text in entities(sentence):
            assert not text.lower().startswith(("the ", "dr ", "mr ", "mrs ", "ms ", "professor ")), text


def test_train_and_valid_fillers_are_disjoint(train, valid):
    for slot in SLOTS:
        train_fillers, valid_fillers = (set(fillers(slot, split)[1]) for split in SPLITS)
        assert train_fillers and valid_fillers and not train_fillers & valid_fillers, slot
    train_all, valid_all = ({text for slot in SLOTS for text in fillers(slot, split)[1]} for split in SPLITS)
    assert not train_all & valid_all
    train_names = {word for s in train for kind, text in entities(s) if kind == "PER" for word in text.split()}
    valid_names = {word for s in valid for kind, text in entities(s) if kind == "PER" for word in text.split()}
    assert valid_names and not {n.removesuffix("'s") for n in train_names} & {n.removesuffix("'s") for n in valid_names}


def test_write_conll_round_trips(tmp_path, train):
    path = tmp_path / "train.txt"
    write_conll(path, train[:300])
    assert read_conll(path) == train[:300]
    assert "IMGID" not in path.read_text(encoding="utf-8")


def test_main_writes_train_and_valid(tmp_path):
    main(["--out", str(tmp_path / "robot"), "--train", "40", "--valid", "10", "--seed", "3"])
    assert read_conll(tmp_path / "robot" / "train.txt") == generate(40, seed=3, split="train")
    assert read_conll(tmp_path / "robot" / "valid.txt") == generate(10, seed=4, split="valid")


def test_every_template_has_one_skeleton():
    for template in TEMPLATES:
        skeletons = {skeleton(fill(template, random.Random(seed), split)) for seed in range(5) for split in SPLITS}
        assert len(skeletons) == 1, template.text


def test_hand_written_set_parses_and_is_big_enough(test_set):
    assert len(test_set) >= 150
    for sentence in test_set:
        assert_valid_bio(sentence)
    counts = Counter(kind for sentence in test_set for kind, _ in entities(sentence))
    assert counts["MISC"] >= 50 and all(counts[kind] >= 40 for kind in TYPES), counts
    without_entity = sum(not entities(s) for s in test_set) / len(test_set)
    assert 0.05 <= without_entity <= 0.15
    assert sum(len(entities(s)) >= 2 for s in test_set) >= 30


def test_hand_written_set_uses_no_generator_template(test_set):
    template_skeletons = {skeleton(fill(t, random.Random(0))): t.text for t in TEMPLATES}
    reused = [" ".join(s.tokens) for s in test_set if skeleton(s) in template_skeletons]
    assert not reused


def test_hand_written_entities_are_mostly_not_in_generator_lists(test_set):
    known = {
        " ".join(tokenize(text)).lower().removeprefix("the ")
        for slot in SLOTS
        for split in SPLITS
        for text in fillers(slot, split)[1]
    }
    texts = [text.lower().removesuffix("'s") for s in test_set for _, text in entities(s)]
    in_lists = [text for text in texts if text in known]
    assert len(in_lists) / len(texts) < 0.20, in_lists
