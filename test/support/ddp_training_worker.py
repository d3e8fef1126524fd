"""Run by test_training_distributed, under torchrun or alone: two epochs of a tiny dropout-free model on
same-length robot commands (so that every share of a batch pads like the whole batch); writes the
step losses as JSON. Arguments: BERT_DIR OUT_DIR LOSSES_JSON."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import torch

if __package__ in (None, ""):  # run as a script by torchrun: make the support package importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mlnet_ros.core.labels import bio_labels
from support.tiny_models import tiny_config
from training.data import Sentence
from training.distributed import start, stop
from training.train import TrainSettings, train

ROOMS = ["kitchen", "hall", "office", "garage", "bedroom", "bathroom", "attic", "basement", "garden", "lab", "shop"]
OBJECTS = ["cup", "box", "keys", "bottle", "book", "phone", "lamp", "chair", "bag", "pen", "plate"]
# 11 commands: batches of 4, 4 and 3 (the last one splits 2 + 1 over two processes)
SENTENCES = [Sentence(None, ["take", "the", thing, "to", "the", room], ["O", "O", "B-OBJECT", "O", "O", "B-ROOM"])
             for thing, room in zip(OBJECTS, ROOMS, strict=True)]
SETTINGS = TrainSettings(epochs=2, batch_size=4, encoder_lr=1e-3, head_lr=1e-2)


def run(bert: Path, out: Path) -> list[float]:
    distributed, device = start("cpu")
    try:
        torch.manual_seed(0)
        config = tiny_config(bert, dropout=0.0, labels=bio_labels(("OBJECT", "ROOM")))
        _, _, history = train(config, SENTENCES, SENTENCES, out, SETTINGS, device=device, distributed=distributed)
        return history["step_loss"] if distributed.is_main else []
    finally:
        stop()


if __name__ == "__main__":
    losses = run(Path(sys.argv[1]), Path(sys.argv[2]))
    if losses:
        Path(sys.argv[3]).write_text(json.dumps(losses))
