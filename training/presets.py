"""The model a training command builds: the ``embedded`` preset, or the paper's (``--preset paper``:
a local Hugging Face BERT directory, a torchvision ResNet-50/152 with a local weights file, s = 4,
12-layer image transformer).

The paper preset takes the text encoder's width and depth from its ``config.json`` and fine-tunes
all its layers: BERT-base (cased or uncased) gives exactly the paper's 768 wide, 12 layers.
"""
from __future__ import annotations

import json
from pathlib import Path

from mlnet_ros.core.config import MLNetConfig, embedded_config, paper_config
from training.errors import UsageError

PRESETS = ("embedded", "paper")
BACKBONES = ("resnet50", "resnet152")


def text_encoder_shape(directory: Path) -> tuple[int, int]:
    """(hidden size, layer count) of a local Hugging Face BERT directory."""
    path = Path(directory) / "config.json"
    try:
        document = json.loads(path.read_text())
        return int(document["hidden_size"]), int(document["num_hidden_layers"])
    except FileNotFoundError:
        raise UsageError(f"--text-encoder {directory}: no config.json (not a Hugging Face model directory)") from None
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise UsageError(f"--text-encoder {directory}: unreadable config.json ({error})") from None


def preset_config(preset: str, text_encoder: Path | None = None, backbone: str | None = None,
                  backbone_weights: Path | None = None) -> MLNetConfig:
    """The MLNetConfig of ``preset``; the paper preset needs ``text_encoder`` and ``backbone_weights``."""
    if preset == "embedded":
        given = [name for name, value in (("--text-encoder", text_encoder), ("--backbone", backbone),
                                          ("--backbone-weights", backbone_weights)) if value is not None]
        if given:
            raise UsageError(f"{', '.join(given)}: only with --preset paper (the embedded preset's base weights are "
                             "packaged)")
        return embedded_config()
    if text_encoder is None or backbone_weights is None:
        raise UsageError("--preset paper needs --text-encoder DIR (a local BERT) and --backbone-weights FILE "
                         "(a torchvision ResNet state dict)")
    if not Path(backbone_weights).is_file():
        raise UsageError(f"--backbone-weights {backbone_weights}: file not found")
    hidden, layers = text_encoder_shape(text_encoder)
    config = paper_config(str(Path(text_encoder).resolve()), str(Path(backbone_weights).resolve()),
                          backbone or "resnet50")
    if hidden % config.image_heads or hidden % config.cross_heads:
        raise UsageError(f"--text-encoder {text_encoder}: hidden size {hidden} is not a multiple of the "
                         f"{config.image_heads} attention heads")
    config.text_hidden, config.text_trainable_layers = hidden, layers
    return config
