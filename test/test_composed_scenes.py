"""Composed scenes as training pairs: grounding targets, the grounding loss, the fine-grained proposer."""
from __future__ import annotations

import random

import skimage.data
import torch
from support.tiny_models import tiny_config, tiny_text_encoder

from mlnet_ros.core.labels import entity_spans
from mlnet_ros.core.results import Box
from mlnet_ros.inference.region_proposals import proposer_for
from mlnet_ros.model.pretrained import build_model, load_tokenizer
from training.composed_scenes import compose_scene, contains_centre, scene_pairs, target_crops
from training.examples import collate, make_examples
from training.objective import grounding_loss
from training.visual_check import CONTEXT_ENTITIES


def test_target_crops_prefer_crops_that_hold_only_their_photo():
    person, thing = Box(0, 0, 100, 100), Box(300, 0, 100, 100)
    crops = [Box(0, 0, 640, 480), Box(0, 0, 420, 120), Box(20, 20, 60, 60), Box(280, 10, 140, 80)]
    assert target_crops(crops, person, thing) == (2,)  # not 1 (holds both), never 0 (the global image)
    assert target_crops(crops, thing, person) == (3,)
    assert target_crops(crops[:2], person, thing) == (1,)  # no crop separates them: the ones holding it
    assert target_crops(crops[:1], person, thing) == ()


def test_scene_pairs_name_a_person_and_an_object_and_target_proposal_crops(tmp_path):
    config = tiny_config(tiny_text_encoder(tmp_path / "bert"))
    config.proposer, config.num_crops = "fine-grained", 3
    model = build_model(config)
    pairs = scene_pairs(model, 12, seed=2)
    assert len(pairs.tokens) == 12 == len(pairs.features) and set(pairs.kind) == {"scene"}
    assert pairs.match == [1.0] * 12
    crops = model.config.num_crops
    for tokens, tags, grounding in zip(pairs.tokens, pairs.tags, pairs.grounding, strict=True):
        kinds = sorted(kind for kind, _, _ in entity_spans(tags))
        assert len(kinds) == 2 and "PER" in kinds and ({"ORG", "MISC"} & set(kinds))
        known = [" ".join(tokens[a:b]) in CONTEXT_ENTITIES["train"][kind] for kind, a, b in entity_spans(tags)]
        assert sum(known) >= 1  # at most one made-up name: the text types the other
        assert set(grounding) <= set(kinds)
        assert all(1 <= crop <= crops for targets in grounding.values() for crop in targets)
    assert sum("PER" in g for g in pairs.grounding) >= 6
    assert scene_pairs(model, 12, seed=2).tokens == pairs.tokens


def test_grounding_loss_moves_the_entity_words_attention_onto_their_crops(tmp_path):
    torch.manual_seed(0)
    model = build_model(tiny_config(tiny_text_encoder(tmp_path / "bert")))
    pairs = scene_pairs(model, 8, seed=3)
    examples = make_examples(load_tokenizer(model.config), model.config, list(zip(pairs.tokens, pairs.tags)),
                             pairs.image, pairs.match, pairs.grounding)
    assert all(e.grounding == g or (not g and e.grounding is None) for e, g in zip(examples, pairs.grounding))
    text, _ = collate(examples)
    features = pairs.features[[e.image for e in examples]].float()
    cells = model.config.cells_per_crop
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=3e-3)
    model.train()
    losses = []
    for _ in range(25):
        output = model(text, model.regions_from_features(features))
        loss = grounding_loss(output.attention, examples, model.config.labels, cells)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss))
    assert losses[-1] < 0.5 * losses[0]
    # examples without grounding (or without grounded words) give no loss
    plain = make_examples(load_tokenizer(model.config), model.config, [(["hello", "there"], ["O", "O"])], [0], [1.0])
    output = model(collate(plain)[0], model.regions_from_features(features[:1]))
    assert grounding_loss(output.attention, plain, model.config.labels, cells) is None


def test_fine_grained_proposer_finds_both_pasted_photos():
    rng = random.Random(4)
    hits = {"person": 0, "thing": 0}
    for _ in range(10):
        scene, person, thing = compose_scene(rng, skimage.data.astronaut(), skimage.data.coffee())
        boxes = proposer_for("fine-grained").propose(scene, 3)
        assert len(boxes) == 3
        hits["person"] += any(contains_centre(box, person) for box in boxes)
        hits["thing"] += any(contains_centre(box, thing) for box in boxes)
    assert hits["person"] >= 8 and hits["thing"] >= 8
