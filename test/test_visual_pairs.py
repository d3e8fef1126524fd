"""Generated visual pairs (plain, mixed, mismatched with real photos, known names) and the region proposers."""
from __future__ import annotations

import random

import numpy as np
import pytest
import skimage.data
from support.tiny_models import tiny_config, tiny_text_encoder

from mlnet_ros.core.config import MLNetConfig, embedded_config
from mlnet_ros.core.labels import entity_spans
from mlnet_ros.inference.region_proposals import (
    PeopleProposer,
    PeopleThenSaliencyProposer,
    SaliencyProposer,
    overlap,
    proposer_for,
)
from mlnet_ros.model.pretrained import build_model
from training.visual_check import (
    CONTEXT_ENTITIES,
    TEMPLATES,
    build_visual_set,
    evaluate_visual,
    kept_with_image_pct,
    photo_of_another_type,
    photo_pool,
)

TWEETS = [(["RT", "@ana", ":", "Obama", "visits", "Berlin"], ["O", "O", "O", "B-PER", "O", "B-LOC"]),
          (["Apple", "opens", "in", "Paris", "today"], ["B-ORG", "O", "O", "B-LOC", "O"])]


@pytest.fixture(scope="module")
def feature_model(tmp_path_factory):
    return build_model(tiny_config(tiny_text_encoder(tmp_path_factory.mktemp("bert"))))


def test_pairs_are_half_matched_half_of_those_mixed_and_negatives_use_real_sentences(feature_model):
    pairs = build_visual_set(feature_model, "test", 80, 3, TWEETS)
    kinds = {kind: pairs.kind.count(kind) for kind in ("plain", "mixed", "mismatched")}
    assert kinds == {"plain": 20, "mixed": 20, "mismatched": 40}
    for tokens, tags, kind, match, image in zip(pairs.tokens, pairs.tags, pairs.kind, pairs.match, pairs.image,
                                                strict=True):
        assert len(tokens) == len(tags) and 0 <= image < len(pairs.features)
        assert match == (0.0 if kind == "mismatched" else 1.0)
        entities = entity_spans(tags)
        if kind == "plain":
            assert len(entities) == 1
        if kind == "mixed":  # the photo's made-up name and at least one entity the text decides
            assert len(entities) >= 2
    negatives = [(t, g) for t, g, k in zip(pairs.tokens, pairs.tags, pairs.kind, strict=True) if k == "mismatched"]
    assert sum(pair in TWEETS for pair in negatives) >= len(negatives) // 2  # real sentences with their gold tags
    again = build_visual_set(feature_model, "test", 80, 3, TWEETS)
    assert again.tokens == pairs.tokens and again.tags == pairs.tags and again.image == pairs.image


def test_known_name_pairs_follow_the_others_and_name_a_context_entity_in_a_template(feature_model):
    plain = build_visual_set(feature_model, "test", 40, 3, TWEETS)
    pairs = build_visual_set(feature_model, "test", 40, 3, TWEETS, known=12)
    assert pairs.tokens[:40] == plain.tokens and pairs.image[:40] == plain.image  # the other pairs stay as they were
    assert pairs.kind[40:] == ["known"] * 12 and pairs.match[40:] == [0.0] * 12
    kinds = set()
    for tokens, tags in zip(pairs.tokens[40:], pairs.tags[40:], strict=True):
        ((kind, start, end),) = entity_spans(tags)
        kinds.add(kind)
        name = " ".join(tokens[start:end])
        assert name in CONTEXT_ENTITIES["test"][kind]
        sentence = " ".join(tokens)
        assert any(sentence == template.replace("{}", name).strip() for template in TEMPLATES["test"])
    assert len(kinds) > 1


def test_a_share_of_known_name_pairs_shows_a_photo_of_the_names_own_type(feature_model):
    others = build_visual_set(feature_model, "test", 8, 3, TWEETS, known=12)
    pairs = build_visual_set(feature_model, "test", 8, 3, TWEETS, known=12, known_same_type=0.25)
    assert pairs.kind[8:] == ["known-same"] * 3 + ["known"] * 9
    assert pairs.match[8:] == [1.0] * 3 + [0.0] * 9
    photo_types = photo_pool(feature_model, "test", 3, random.Random(0))[0]  # types do not depend on the rng
    for tags, image, kind in zip(pairs.tags[8:], pairs.image[8:], pairs.kind[8:], strict=True):
        ((entity_type, _, _),) = entity_spans(tags)
        assert (photo_types[image] == entity_type) == (kind == "known-same")
    assert pairs.tokens[8:] == others.tokens[8:]  # the same sentences, only the photos differ


def test_photo_of_another_type_never_shows_the_entitys_type():
    types = ["PER", "PER", "LOC", "ORG", "MISC", "PER"]
    rng = random.Random(0)
    chosen = {photo_of_another_type(rng, types, "PER") for _ in range(200)}
    assert chosen == {2, 3, 4}


def test_context_entities_of_train_and_test_are_disjoint():
    for kind, train_names in CONTEXT_ENTITIES["train"].items():
        assert not set(train_names) & set(CONTEXT_ENTITIES["test"][kind])


def test_kept_with_image_counts_only_entities_the_text_alone_got_right():
    gold = [["B-PER", "O", "B-ORG"], ["B-MISC", "I-MISC", "O", "B-LOC"]]
    text_only = [["B-LOC", "O", "B-ORG"], ["B-MISC", "I-MISC", "O", "B-LOC"]]  # right: NASA, the MISC, the LOC
    with_image = [["B-PER", "O", "B-PER"], ["B-MISC", "I-MISC", "O", "B-LOC"]]  # the image turned NASA into PER
    assert kept_with_image_pct(gold, text_only, with_image) == round(100 * 2 / 3, 1)
    assert kept_with_image_pct(gold, text_only, text_only) == 100.0
    assert kept_with_image_pct(gold, [["O"] * 3, ["O"] * 4], with_image) == 100.0  # nothing to keep


def test_visual_check_reports_plain_mixed_and_gate_figures(feature_model, tmp_path):
    from mlnet_ros.model.pretrained import load_tokenizer

    pairs = build_visual_set(feature_model, "test", 24, 5, known=8)
    result = evaluate_visual(feature_model, load_tokenizer(feature_model.config), pairs)
    assert result["matched_pairs"] == 6 and result["mixed_pairs"] == 6 and result["mismatched_pairs"] == 12
    assert result["known_pairs"] == 8
    for key in ("f1_with_image", "f1_text_only", "mixed_f1_with_image", "mixed_f1_text_only",
                "gate_open_on_matched_pct", "gate_closed_on_mismatched_pct", "known_f1_with_image",
                "known_f1_text_only", "gate_closed_on_known_pct", "mixed_kept_with_image_pct"):
        assert 0.0 <= result[key] <= 100.0
    without_known = evaluate_visual(feature_model, load_tokenizer(feature_model.config), build_visual_set(
        feature_model, "test", 24, 5))
    assert "known_pairs" not in without_known


def test_people_proposer_finds_the_astronaut_and_leads_the_merged_proposals():
    photo = skimage.data.astronaut()
    people = PeopleProposer().detect(photo, 3)
    assert people, "HOG found no person in skimage's astronaut photo"
    merged = PeopleThenSaliencyProposer().propose(photo, 3)
    assert len(merged) == 3 and merged[: len(people)] == people
    for box in merged[len(people):]:
        assert all(overlap(box, person) < 0.5 for person in people)


def test_people_proposer_pads_when_nobody_is_there():
    flat = np.full((300, 400, 3), 128, np.uint8)
    assert PeopleProposer().detect(flat, 3) == []
    assert len(PeopleThenSaliencyProposer().propose(flat, 3)) == 3


def test_proposer_is_named_by_the_config_and_unknown_names_are_refused():
    assert isinstance(proposer_for(embedded_config().proposer), SaliencyProposer)
    assert isinstance(proposer_for("saliency+people"), PeopleThenSaliencyProposer)
    with pytest.raises(ValueError, match="unknown region proposer 'yolo'"):
        proposer_for("yolo")
    values = {k: v for k, v in __import__("json").loads(embedded_config().to_json()).items() if k != "proposer"}
    assert MLNetConfig.from_dict(values).proposer == "saliency"  # checkpoints from before the field
    with pytest.raises(ValueError, match="unknown region proposer"):
        MLNetConfig.from_dict({**values, "proposer": "yolo"})


def test_composed_scenes_paste_both_photos_apart_inside_the_frame():
    import random

    from training.composed_scenes import SCENE_SIZE, compose_scene

    rng = random.Random(0)
    for _ in range(20):
        scene, person, thing = compose_scene(rng, skimage.data.astronaut(), skimage.data.coffee())
        assert scene.shape == (*SCENE_SIZE, 3) and scene.dtype == np.uint8
        assert overlap(person, thing) == 0.0
        for box in (person, thing):
            assert box.x >= 0 and box.y >= 0 and box.x + box.width <= SCENE_SIZE[1]
            assert box.y + box.height <= SCENE_SIZE[0] and 140 <= max(box.width, box.height) <= 220


def test_grounding_check_runs_the_recognizer_on_scenes(tiny_checkpoint):
    from mlnet_ros.inference.backends import load_backend
    from training.grounding_check import grounding_check

    result = grounding_check(load_backend(tiny_checkpoint, "torch"), scenes=6, seed=1)
    assert result["scenes"] == 6
    for key in ("person_box_on_person_pct", "object_box_on_object_pct", "gate_open_pct", "different_boxes_pct"):
        assert 0.0 <= result[key] <= 100.0
    if result["gate_open_pct"] == 0.0:  # no box without the gate
        assert result["person_box_on_person_pct"] == result["object_box_on_object_pct"] == 0.0
