"""Training pipeline: data reading, seqeval-compatible scores, overfitting a tiny slice, CLI errors."""
from __future__ import annotations

import random
import subprocess
import sys

import numpy as np
import pytest
import torch
from seqeval.metrics import classification_report, f1_score, precision_score, recall_score
from support.paths import REPO, SHIPPED_MODEL
from support.tiny_models import tiny_config, tiny_text_encoder

from mlnet_ros.core.labels import entity_spans, repair_bio
from mlnet_ros.model.checkpoint import load_checkpoint
from mlnet_ros.model.pretrained import build_model, load_tokenizer
from training.data import DataError, Sentence, read_conll
from training.examples import batches, collate, make_examples
from training.metrics import entity_scores
from training.pretrain import PretrainSettings, pretrain
from training.train import TrainSettings, optimizer_for, predict_tags, set_seed, train

TRICKY = [
    (["O", "I-LOC", "I-LOC", "O"], ["O", "B-LOC", "I-LOC", "O"]),  # stray I- starts an entity
    (["B-PER", "B-PER", "I-PER"], ["B-PER", "I-PER", "I-PER"]),  # adjacent entities of one type
    (["B-PER", "I-LOC", "O"], ["B-PER", "B-LOC", "O"]),  # type change inside a span
    (["B-ORG", "I-ORG", "I-PER", "B-MISC"], ["B-ORG", "I-ORG", "O", "I-MISC"]),
    (["I-MISC"], ["B-MISC"]),
    (["O", "O"], ["B-ORG", "I-ORG"]),
    (["B-LOC", "O", "B-LOC"], ["B-LOC", "O", "O"]),
]
SLICE = [
    Sentence(None, ["Kevin", "Durant", "joins", "Golden", "State", "Warriors"],
             ["B-PER", "I-PER", "O", "B-ORG", "I-ORG", "I-ORG"]),
    Sentence(None, ["Weekend", "in", "Paris", "with", "Anna"], ["O", "O", "B-LOC", "O", "B-PER"]),
    Sentence(None, ["Watching", "Star", "Wars", "tonight"], ["O", "B-MISC", "I-MISC", "O"]),
    Sentence(None, ["London", "Mayor", "Sadiq", "Khan", "spoke"], ["B-LOC", "O", "B-PER", "I-PER", "O"]),
]


def test_scores_match_seqeval_on_tricky_cases():
    gold = [g for g, _ in TRICKY]
    predicted = [p for _, p in TRICKY]
    ours = entity_scores(gold, predicted)
    assert ours["overall"]["f1"] == pytest.approx(100 * f1_score(gold, predicted))
    assert ours["overall"]["precision"] == pytest.approx(100 * precision_score(gold, predicted))
    assert ours["overall"]["recall"] == pytest.approx(100 * recall_score(gold, predicted))
    report = classification_report(gold, predicted, output_dict=True)
    for kind in ("PER", "LOC", "ORG", "MISC"):
        assert ours[kind]["f1"] == pytest.approx(100 * report[kind]["f1-score"])
        assert ours[kind]["support"] == report[kind]["support"]


def test_repair_bio_keeps_entities():
    for gold, predicted in TRICKY:
        for tags in (gold, predicted):
            assert entity_spans(repair_bio(tags)) == entity_spans(tags)


def test_read_conll_with_and_without_imgid(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("IMGID:17_06_1\nRT\tO\nKevin\tB-PER\nin\tO\nSt\tO\nLouis\tI-OTHER\n\nplain\tO\nline\tO")
    first, second = read_conll(path)
    assert first.image_id == "17_06_1" and first.tags == ["O", "B-PER", "O", "O", "I-MISC"]
    assert second.image_id is None and second.tokens == ["plain", "line"]
    path.write_text("word\tB-FOO\n")
    with pytest.raises(DataError, match="a.txt:1: tag 'B-FOO'"):
        read_conll(path)
    with pytest.raises(DataError, match="file not found"):
        read_conll(tmp_path / "missing.txt")


def test_tiny_model_overfits_a_small_slice(tmp_path):
    torch.manual_seed(0)
    config = tiny_config(tiny_text_encoder(tmp_path / "bert"), text_trainable_layers=2)
    model = build_model(config)
    tokenizer = load_tokenizer(config)
    sentences = SLICE
    gold = [s.tags for s in sentences]
    examples = make_examples(tokenizer, config, [(s.tokens, s.tags) for s in sentences])
    settings = TrainSettings(head_lr=1e-2, encoder_lr=1e-3)
    optimizer, scheduler = optimizer_for(model, settings, 200)
    f1_before = entity_scores(gold, predict_tags(model, tokenizer, sentences))["overall"]["f1"]
    losses = []
    for _ in range(200):
        for batch in batches(examples, 4, random.Random(0)):
            model.train()
            text, tags = collate(batch)
            loss = model.ner_loss(model(text), tags, text.word_mask)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            scheduler.step()
            model.crf.pin_forbidden()
            losses.append(loss.item())
    f1_after = entity_scores(gold, predict_tags(model, tokenizer, sentences))["overall"]["f1"]
    assert len(losses) == 200 and max(losses[-5:]) < 0.1 * losses[0]
    assert f1_after == 100.0 and f1_before < 50.0


def test_mlm_pretraining_learns_and_starts_ner_training(tmp_path):
    config = tiny_config(tiny_text_encoder(tmp_path / "bert"), text_trainable_layers=2)
    settings = PretrainSettings(steps=150, batch_size=4, lr=1e-3, mvm=False, vlm=False)
    losses = pretrain(config, SLICE * 4, tmp_path / "pretrained", settings)
    assert 100 < len(losses) <= 150 and np.mean(losses[-20:]) < 0.5 * np.mean(losses[:20])
    pretrained, _ = load_checkpoint(tmp_path / "pretrained")
    model, _, history = train(config, SLICE, SLICE, tmp_path / "ner", TrainSettings(epochs=1, batch_size=4),
                              init_dir=tmp_path / "pretrained")
    assert len(history["epochs"]) == 1
    assert not torch.equal(model.text_encoder.encoder.layer[1].output.dense.weight,
                           pretrained.text_encoder.encoder.layer[1].output.dense.weight)


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "training", *args], cwd=REPO, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize(
    "args, message",
    [
        (["predict", "--model", "models/embedded", "--data", "no/such.txt", "--out", "x"], "no/such.txt: file not found"),
        (["predict", "--model", "no/such/model", "--data", "{data}", "--out", "x"], "model directory does not exist"),
        (["train", "--out", "/tmp/x", "--data-dir", "/no/data"], "twitter2015/train.txt: file not found"),
        (["train", "--out", "/tmp/x", "--text-layers", "9"], "--text-layers 9: the text encoder has 6 layers"),
        (["train", "--out", "/tmp/x", "--init", "models/embedded", "--text-layers", "3"], "drop --text-encoder"),
        (["train", "--out", "/tmp/x", "--scene-pairs", "10"], "--scene-pairs: add --visual N"),
        (["train", "--out", "/tmp/x", "--known-pairs", "10"], "--known-pairs: add --visual N"),
        (["train", "--out", "/tmp/x", "--visual", "10", "--known-same-type", "0.5"],
         "--known-same-type: add --known-pairs N"),
    ],
)
def test_cli_user_errors_are_one_line(args, message, tmp_path):
    data = tmp_path / "data.txt"
    data.write_text("Paris\tB-LOC\n")
    result = run_cli(*[a.replace("{data}", str(data)) for a in args])
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.skipif(not (SHIPPED_MODEL / "model.safetensors").exists(), reason="no shipped model")
def test_predict_contract_with_shipped_model(tmp_path):
    data = tmp_path / "in.txt"
    data.write_text("IMGID:1\nBarack\tB-PER\nObama\tI-PER\nvisited\tO\nParis\tB-LOC\n\nno\tO\nimage\tO\nid\tO\n")
    out = tmp_path / "out.txt"
    result = run_cli("predict", "--model", "models/embedded", "--data", str(data), "--out", str(out))
    assert result.returncode == 0, result.stderr
    blocks = out.read_text().strip("\n").split("\n\n")
    assert len(blocks) == 2
    first = [line.split("\t") for line in blocks[0].splitlines()]
    assert [row[:2] for row in first] == [["Barack", "B-PER"], ["Obama", "I-PER"], ["visited", "O"], ["Paris", "B-LOC"]]
    assert [row[2] for row in first] == ["B-PER", "I-PER", "O", "B-LOC"]
    assert [len(line.split("\t")) for line in blocks[1].splitlines()] == [3, 3, 3]


def write_image_folder(folder):
    """a.jpg: a real photo; b.jpg: not an image; c.jpg: absent."""
    import cv2
    import skimage.data

    folder.mkdir()
    cv2.imwrite(str(folder / "a.jpg"), cv2.cvtColor(skimage.data.astronaut(), cv2.COLOR_RGB2BGR))
    (folder / "b.jpg").write_bytes(b"not a jpeg")
    return folder


def test_predict_with_image_folder_counts_and_uses_images(tmp_path):
    from mlnet_ros.inference.backends.torch_runner import TorchRunner
    from mlnet_ros.inference.image_crops import image_crops
    from mlnet_ros.inference.region_proposals import SaliencyProposer
    from mlnet_ros.inference.tagging import tag_words
    from training.tweet_images import tweet_images

    folder = write_image_folder(tmp_path / "images")
    data = tmp_path / "in.txt"
    data.write_text("IMGID:a\nEileen\tB-PER\nCollins\tI-PER\n\nIMGID:b\nin\tO\nParis\tB-LOC\n\n"
                    "IMGID:c\nat\tO\nNASA\tB-ORG\n\nno\tO\nimage\tO\n")
    out = tmp_path / "out.txt"
    result = run_cli("predict", "--model", "models/embedded", "--data", str(data), "--out", str(out), "--images", str(folder))
    assert result.returncode == 0, result.stderr
    assert "images: 1 used, 1 missing, 1 unreadable, 1 sentences without IMGID" in result.stderr
    assert [b.splitlines()[0].split("\t")[0] for b in out.read_text().strip("\n").split("\n\n")] == ["Eileen", "in", "at", "no"]

    model, tokenizer = load_checkpoint(SHIPPED_MODEL)
    sentences = read_conll(data)
    images = tweet_images(model, sentences, [folder])
    assert images.rows == [0, None, None, None]
    crops, _ = image_crops(skimage_astronaut(), SaliencyProposer(), model.config.num_crops)
    runner = TorchRunner(model)
    direct = tag_words(runner, tokenizer, [sentences[0].tokens], [runner.encode_crops(crops[None])[0]])[0]
    assert predict_tags(model, tokenizer, sentences[:1], images) == [direct.tags]


def skimage_astronaut():
    """The astronaut photo after a JPEG round trip, as the folder holds it."""
    import cv2
    import skimage.data

    ok, jpeg = cv2.imencode(".jpg", cv2.cvtColor(skimage.data.astronaut(), cv2.COLOR_RGB2BGR))
    return cv2.cvtColor(cv2.imdecode(jpeg, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def test_training_with_tweet_images_trains_the_image_path(tmp_path):
    from training.tweet_images import tweet_images

    folder = write_image_folder(tmp_path / "images")
    config = tiny_config(tiny_text_encoder(tmp_path / "bert"))
    sentences = [Sentence("a" if i % 2 else None, s.tokens, s.tags) for i, s in enumerate(SLICE)]
    images = tweet_images(build_model(config), sentences, [folder])
    assert images.counts.used == 2 and images.counts.without_imgid == 2
    torch.manual_seed(0)
    model, _, history = train(config, sentences, sentences, tmp_path / "ner", TrainSettings(epochs=1, batch_size=2),
                              train_images=images, valid_images=images)
    set_seed(TrainSettings().seed)  # train() builds its model right after this
    start = build_model(config)
    assert len(history["epochs"]) == 1 and all(np.isfinite(history["step_loss"]))
    assert not torch.equal(model.region_projection.weight, start.region_projection.weight.half().float())


def test_pretraining_with_tweet_images_pairs_each_tweet_with_its_own_and_another_image(tmp_path):
    from training.pretrain import tweet_pairs
    from training.tweet_images import TweetImages

    rows = [0, None, 1, 2, 1]
    pairs = tweet_pairs(TweetImages(torch.zeros(3), rows), random.Random(0))
    assert [(i, r) for i, r, m in pairs if m == 1.0] == [(0, 0), (2, 1), (3, 2), (4, 1)]
    assert [i for i, r, m in pairs if m == 0.0] == [0, 2, 3, 4]
    assert all(r != rows[i] for i, r, m in pairs if m == 0.0)

    from training.tweet_images import tweet_images

    folder = write_image_folder(tmp_path / "images")
    config = tiny_config(tiny_text_encoder(tmp_path / "bert"))
    sentences = [Sentence("a" if i % 2 else "b", s.tokens, s.tags) for i, s in enumerate(SLICE)]
    images = tweet_images(build_model(config), sentences, [folder])
    losses = pretrain(config, sentences, tmp_path / "pretrained", PretrainSettings(steps=3, batch_size=4), images)
    assert len(losses) == 3 and all(np.isfinite(losses))
    load_checkpoint(tmp_path / "pretrained")


def test_predict_and_evaluate_in_spoken_form(tmp_path):
    """--form spoken scores the text as a lower-case recogniser emits it: gold tags follow the kept tokens."""
    data = tmp_path / "commands.txt"
    data.write_text("Bring\tO\nthe\tO\ncup\tO\nto\tO\nAngela\tB-PER\nMerkel\tI-PER\nin\tO\nBerlin\tB-LOC\n!\tO\n")
    out = tmp_path / "predicted.txt"
    result = run_cli("predict", "--model", "models/embedded", "--data", str(data), "--out", str(out), "--form", "spoken")
    assert result.returncode == 0, result.stderr
    rows = [line.split("\t") for line in out.read_text().splitlines() if line]
    assert [r[0] for r in rows] == ["bring", "the", "cup", "to", "angela", "merkel", "in", "berlin"]
    assert [r[1] for r in rows] == ["O", "O", "O", "O", "B-PER", "I-PER", "O", "B-LOC"]
    evaluated = run_cli("evaluate", "--model", "models/embedded", "--data", str(data), "--form", "spoken")
    assert evaluated.returncode == 0, evaluated.stderr
    assert evaluated.stdout.splitlines()[0].split() == ["type", "P", "R", "F1", "support"]
    assert run_cli("evaluate", "--model", "models/embedded", "--data", str(data), "--form", "shouted").returncode == 2


def test_spoken_share_lowercases_the_share_and_keeps_punctuation_only_sentences():
    from training.speech_form import SpeechAugmentation
    from training.train import spoken_share

    pairs = [(s.tokens, s.tags) for s in SLICE] + [(["!", "?"], ["O", "O"])]
    speech = SpeechAugmentation(share=1.0, filler_rate=0.0, repeat_rate=0.0)
    spoken = spoken_share(pairs, speech, random.Random(0))
    assert spoken[0] == ([t.lower() for t in SLICE[0].tokens], SLICE[0].tags)
    assert spoken[-1] == (["!", "?"], ["O", "O"])  # would be empty in spoken form
    cased = pairs[:-1]  # every sentence has a capital letter
    half = spoken_share(cased, SpeechAugmentation(share=0.5, filler_rate=0.0, repeat_rate=0.0), random.Random(0))
    assert sum(h != p for h, p in zip(half, cased, strict=True)) == 2 and spoken_share(pairs, None, None) is pairs


def test_training_with_speech_augmentation_records_it_in_the_checkpoint(tmp_path):
    import json

    config = tiny_config(tiny_text_encoder(tmp_path / "bert"))
    settings = TrainSettings(epochs=2, batch_size=2, speech_share=0.5, speech_filler_rate=0.25, speech_repeat_rate=0.1)
    _, _, history = train(config, SLICE, SLICE, tmp_path / "ner", settings)
    info = json.loads((tmp_path / "ner" / "config.json").read_text())["training"]
    assert info["speech_augmentation"] == {"share": 0.5, "lowercase": True, "strip_punctuation": True,
                                           "filler_rate": 0.25, "repeat_rate": 0.1}
    assert info["settings"]["speech_share"] == 0.5 and len(history["epochs"]) == 2


def test_random_photos_pair_every_sentence_deterministically(tmp_path):
    from training.random_photos import PHOTOS, photo, random_photo_images

    model = build_model(tiny_config(tiny_text_encoder(tmp_path / "bert")))
    images = random_photo_images(model, SLICE * 5, seed=4)
    again = random_photo_images(model, SLICE * 5, seed=4)
    assert images.rows == again.rows and len(images.rows) == 20 and len(set(images.rows)) > 3
    assert images.features.shape[:2] == (len(PHOTOS), model.config.num_crops + 1)
    assert images.counts.used == 20 and random_photo_images(model, SLICE * 5, seed=5).rows != images.rows
    assert all(photo(name).dtype == np.uint8 and photo(name).shape[2] == 3 for name in PHOTOS)


@pytest.mark.skipif(not (SHIPPED_MODEL / "model.safetensors").exists(), reason="no shipped model")
def test_evaluate_with_random_photos_reports_the_gate(tmp_path):
    data = tmp_path / "in.txt"
    data.write_text("Barack\tB-PER\nObama\tI-PER\nvisited\tO\nParis\tB-LOC\n\nI\tO\nlove\tO\nBerlin\tB-LOC\n")
    result = run_cli("evaluate", "--model", "models/embedded", "--data", str(data), "--random-images", "3")
    assert result.returncode == 0, result.stderr
    assert "overall" in result.stdout and "gate open on" in result.stdout and "of 2 sentences" in result.stdout
    both = run_cli("evaluate", "--model", "models/embedded", "--data", str(data), "--random-images", "3",
                   "--images", str(tmp_path))
    assert both.returncode == 2 and "not allowed with argument" in both.stderr
