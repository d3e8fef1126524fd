"""Helpers shared by the test_training_* tests: small data files and tiny base weights (no tests here)."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import torch
from transformers import BertConfig, BertModel

from mlnet_ros.core.base_weights import text_encoder_dir
from mlnet_ros.core.config import embedded_config
from support.paths import REPO

COMMANDS = [  # robot commands with their own types
    ("bring the red cup to the kitchen", "O O B-OBJECT I-OBJECT O O B-ROOM"),
    ("go to the garage", "O O O B-ROOM"),
    ("put the keys in the office", "O O B-OBJECT O O B-ROOM"),
    ("take the blue box to the hall", "O O B-OBJECT I-OBJECT O O B-ROOM"),
]


def write_conll(path: Path, rows=COMMANDS, repeat: int = 1) -> Path:
    """``rows`` of (words, tags) as a CoNLL file, ``repeat`` times over."""
    blocks = ["\n".join(f"{w}\t{t}" for w, t in zip(words.split(), tags.split(), strict=True)) for words, tags in rows]
    path.write_text("\n\n".join(blocks * repeat) + "\n", encoding="utf-8")
    return path


def bert_directory(directory: Path, hidden: int = 48, layers: int = 2, dropout: float = 0.1) -> Path:
    """A random BERT (``hidden`` wide, 4 heads) with MiniLM's uncased WordPiece tokenizer, saved in ``directory``."""
    torch.manual_seed(0)
    config = BertConfig(hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=4,
                        intermediate_size=2 * hidden, max_position_embeddings=512, hidden_dropout_prob=dropout,
                        attention_probs_dropout_prob=dropout)
    BertModel(config, add_pooling_layer=False).save_pretrained(directory)
    source = text_encoder_dir(embedded_config())
    for name in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
        shutil.copy(source / name, directory / name)
    return directory


def resnet_weights(path: Path, name: str = "resnet50") -> Path:
    """A random-weight torchvision ResNet state dict (torch.save), as a user would download one."""
    import torchvision

    torch.manual_seed(0)
    torch.save(getattr(torchvision.models, name)(weights=None).state_dict(), path)
    return path


def run_training(*args, env=None, timeout=600) -> subprocess.CompletedProcess:
    """``python -m training ARGS`` from the repository root."""
    return subprocess.run([sys.executable, "-m", "training", *map(str, args)], cwd=REPO, capture_output=True,
                          text=True, timeout=timeout, env=env)


def photo_folder(folder: Path, count: int = 3) -> Path:
    """``count`` scikit-image photos as p0.jpg, p1.jpg, ... and a file that is not an image, bad.jpg."""
    import cv2
    import skimage.data

    folder.mkdir(parents=True, exist_ok=True)
    photos = [skimage.data.astronaut(), skimage.data.coffee(), skimage.data.chelsea(), skimage.data.rocket()]
    for i in range(count):
        cv2.imwrite(str(folder / f"p{i}.jpg"), cv2.cvtColor(photos[i % len(photos)], cv2.COLOR_RGB2BGR))
    (folder / "bad.jpg").write_bytes(b"not a jpeg")
    return folder
