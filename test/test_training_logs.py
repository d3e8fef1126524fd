"""Logs people read: TensorBoard event files (loss, learning rates, valid F1 overall and per type)."""
from __future__ import annotations

import pytest
import torch
from support.tiny_models import tiny_config, tiny_text_encoder
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from mlnet_ros.core.labels import bio_labels
from training.data import Sentence
from training.train import TrainSettings, train

SENTENCES = [
    Sentence(None, ["go", "to", "the", "kitchen"], ["O", "O", "O", "B-ROOM"]),
    Sentence(None, ["bring", "the", "cup"], ["O", "O", "B-OBJECT"]),
    Sentence(None, ["the", "cup", "is", "in", "the", "hall"], ["O", "B-OBJECT", "O", "O", "O", "B-ROOM"]),
]


def test_tensorboard_events_under_the_run_directory(tmp_path):
    torch.manual_seed(0)
    config = tiny_config(tiny_text_encoder(tmp_path / "bert"), labels=bio_labels(("OBJECT", "ROOM")))
    _, _, history = train(config, SENTENCES, SENTENCES, tmp_path / "run", TrainSettings(epochs=2, batch_size=2))
    events = EventAccumulator(str(tmp_path / "run" / "tensorboard"))
    events.Reload()
    tags = set(events.Tags()["scalars"])
    assert {"train/loss", "learning_rate/encoder", "learning_rate/head", "valid_f1/overall", "valid_f1/ROOM",
            "valid_f1/OBJECT"} <= tags
    assert [e.value for e in events.Scalars("train/loss")] == pytest.approx(history["step_loss"])
    assert [e.step for e in events.Scalars("valid_f1/overall")] == [1, 2]
    assert [round(e.value, 2) for e in events.Scalars("valid_f1/overall")] == [e["valid_f1"] for e in history["epochs"]]
    head_lr = [e.value for e in events.Scalars("learning_rate/head")]
    assert len(head_lr) == 4 and head_lr[0] > head_lr[-1]  # warm-up, then linear decay
