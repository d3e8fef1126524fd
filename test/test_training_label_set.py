"""Own entity types: the label set from the training files or --types, fine-tuning onto new labels,
and a custom-type checkpoint through `python -m training predict` and mlnet_tag."""
from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from support.paths import REPO, SHIPPED_MODEL
from support.tiny_models import tiny_config, tiny_text_encoder

from mlnet_ros.core.labels import LABELS, bio_labels
from mlnet_ros.model.checkpoint import load_checkpoint
from mlnet_ros.model.pretrained import build_model
from training.data import DataError, Sentence
from training.examples import collate, make_examples
from training.label_set import carry_weights, parse_types, run_types
from training.metrics import entity_scores
from training.train import TrainSettings, predict_tags, train

COMMANDS = [
    Sentence(None, ["bring", "the", "red", "cup", "to", "the", "kitchen"],
             ["O", "O", "B-OBJECT", "I-OBJECT", "O", "O", "B-ROOM"]),
    Sentence(None, ["go", "to", "the", "garage"], ["O", "O", "O", "B-ROOM"]),
    Sentence(None, ["put", "the", "keys", "in", "the", "office"], ["O", "O", "B-OBJECT", "O", "O", "B-ROOM"]),
    Sentence(None, ["ask", "Anna", "about", "the", "laptop"], ["O", "B-PER", "O", "O", "B-OBJECT"]),
]


def test_label_set_order():
    assert bio_labels(("PER", "LOC", "ORG", "MISC")) == LABELS
    assert run_types({"ROOM", "PER", "OBJECT", "LOC"}, None, None) == ("PER", "LOC", "OBJECT", "ROOM")
    assert run_types({"ROOM", "PER"}, ("ROOM", "PER"), None) == ("ROOM", "PER")
    assert run_types({"ROOM", "PER", "AREA"}, None, ("PER", "LOC", "ORG", "MISC")) == (
        "PER", "LOC", "ORG", "MISC", "AREA", "ROOM")
    assert parse_types(" ROOM, OBJECT") == ("ROOM", "OBJECT")
    for bad in ("ROOM,,OBJECT", "ROOM,ROOM", "MY ROOM"):
        with pytest.raises(DataError, match="--types"):
            parse_types(bad)
    with pytest.raises(DataError, match="tag no entity"):
        run_types(set(), None, None)


def test_carry_weights_copies_rows_by_label_name(tmp_path):
    encoder = tiny_text_encoder(tmp_path / "bert")
    torch.manual_seed(1)
    source = build_model(tiny_config(encoder))
    torch.manual_seed(2)
    target = build_model(tiny_config(encoder, labels=bio_labels(("ROOM", "PER", "OBJECT"))))
    fresh = {name: t.clone() for name, t in target.trainable_state_dict().items()}
    carry_weights(source, target)
    old, new = source.config.labels, target.config.labels
    shared = [(new.index(label), old.index(label)) for label in ("O", "B-PER", "I-PER")]
    added = [new.index(label) for label in ("B-ROOM", "I-ROOM", "B-OBJECT", "I-OBJECT")]
    for t, s in shared:
        assert torch.equal(target.classifier.weight[t], source.classifier.weight[s])
        assert target.crf.crf.end_transitions[t] == source.crf.crf.end_transitions[s]
        for t2, s2 in shared:
            assert target.crf.crf.transitions[t, t2] == source.crf.crf.transitions[s, s2]
    for t in added:
        assert torch.equal(target.classifier.weight[t], fresh["classifier.weight"][t])
    assert target.crf.crf.transitions[new.index("O"), new.index("I-ROOM")] == -10000.0  # still pinned
    assert torch.equal(target.bilstm.weight_hh_l0, source.bilstm.weight_hh_l0)
    assert torch.equal(target.text_encoder.encoder.layer[1].output.dense.weight,
                       source.text_encoder.encoder.layer[1].output.dense.weight)


@pytest.fixture(scope="module")
def custom_checkpoint(tmp_path_factory):
    """A tiny model trained to tag OBJECT / ROOM / PER on four robot commands (its best epoch)."""
    tmp = tmp_path_factory.mktemp("custom")
    torch.manual_seed(0)
    config = tiny_config(tiny_text_encoder(tmp / "bert"), text_trainable_layers=2, dropout=0.0,
                         labels=bio_labels(("PER", "OBJECT", "ROOM")))
    settings = TrainSettings(epochs=30, batch_size=4, encoder_lr=1e-3, head_lr=3e-2)
    train(config, COMMANDS, COMMANDS, tmp / "model", settings)
    return tmp / "model"


def test_fine_tuning_adds_new_types_and_keeps_the_old_ones(custom_checkpoint, tmp_path):
    trained, tokenizer = load_checkpoint(custom_checkpoint)
    gold = [s.tags for s in COMMANDS]
    assert entity_scores(gold, predict_tags(trained, tokenizer, COMMANDS))["overall"]["f1"] == 100.0
    more = [Sentence(None, ["open", "the", "door", "of", "the", "hall"], ["O", "O", "B-OBJECT", "O", "O", "B-AREA"])]
    config = dataclasses.replace(trained.config, labels=bio_labels(("PER", "OBJECT", "ROOM", "AREA")))
    model, _, _ = train(config, more + COMMANDS, COMMANDS, tmp_path / "tuned",
                        TrainSettings(epochs=1, batch_size=8, encoder_lr=0.0, head_lr=0.0), init_dir=custom_checkpoint)
    assert json.loads((tmp_path / "tuned" / "labels.json").read_text())[-2:] == ["B-AREA", "I-AREA"]
    # With learning rates 0, the old labels' emissions are those of the starting checkpoint (up to fp16 storage).
    text, _ = collate(make_examples(tokenizer, trained.config, [(s.tokens, s.tags) for s in COMMANDS]))
    with torch.no_grad():
        before, after = trained(text).emissions, model.eval()(text).emissions
    assert torch.allclose(after[..., :7], before, atol=1e-2) and after.shape[-1] == 9


def run(*args, env=None):
    return subprocess.run([*map(str, args)], cwd=REPO, capture_output=True, text=True, timeout=300, env=env)


@pytest.mark.parametrize("backend", ["torch", "onnxruntime"])
def test_mlnet_tag_reports_the_checkpoint_s_own_types(custom_checkpoint, backend, tmp_path):
    """The label set travels with the checkpoint: the torch backend and the ONNX export (its sidecar's config)."""
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path))  # the ONNX export goes there
    if backend == "onnxruntime":  # exported first, as docs/TRAINING.md says
        exported = run(sys.executable, "-m", "mlnet_ros.onnx_export", "--model", custom_checkpoint, env=env)
        assert exported.returncode == 0, exported.stderr
        sidecar = json.loads((Path(exported.stdout.splitlines()[-1]) / "export.json").read_text())
        assert sidecar["config"]["labels"][-2:] == ["B-ROOM", "I-ROOM"]
    result = run(REPO / ".venv" / "bin" / "mlnet_tag", "--model", custom_checkpoint, "--backend", backend,
                 "bring the red cup to the kitchen", env=env)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["backend"] == backend
    assert [(e["text"], e["type"]) for e in answer["entities"]] == [("red cup", "OBJECT"), ("kitchen", "ROOM")]


@pytest.mark.skipif(not (SHIPPED_MODEL / "model.safetensors").exists(), reason="no shipped model")
def test_cli_trains_new_types_from_files_and_predict_writes_them(tmp_path):
    lines = [s for s in COMMANDS if "B-PER" not in s.tags]
    text = "\n\n".join("\n".join(f"{w}\t{t}" for w, t in zip(s.tokens, s.tags, strict=True)) for s in lines)
    (tmp_path / "A.txt").write_text(text + "\n")
    (tmp_path / "B.txt").write_text(text + "\n")
    out = tmp_path / "run"
    result = run(sys.executable, "-m", "training", "--threads", "1", "train", "--train", tmp_path / "A.txt",
                 "--valid", tmp_path / "B.txt", "--out", out, "--epochs", "1", "--batch-size", "2", "--device", "cpu")
    assert result.returncode == 0, result.stderr
    assert json.loads((out / "labels.json").read_text()) == ["O", "B-OBJECT", "I-OBJECT", "B-ROOM", "I-ROOM"]
    assert json.loads((out / "config.json").read_text())["model"]["labels"][-1] == "I-ROOM"
    result = run(sys.executable, "-m", "training", "predict", "--model", out, "--data", tmp_path / "B.txt",
                 "--out", tmp_path / "predicted.txt")
    assert result.returncode == 0, result.stderr
    rows = [line.split("\t") for line in (tmp_path / "predicted.txt").read_text().splitlines() if line]
    assert len(rows) == sum(len(s.tokens) for s in lines) and all(len(r) == 3 for r in rows)
    assert {r[1] for r in rows} == {"O", "B-OBJECT", "I-OBJECT", "B-ROOM"}
    assert {r[2] for r in rows} <= {"O", "B-OBJECT", "I-OBJECT", "B-ROOM", "I-ROOM"}
