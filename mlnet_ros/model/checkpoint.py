"""Saving and loading checkpoint directories (files: ``mlnet_ros.core.checkpoint_files``).

Only the trainable weights are stored (fp16); loading builds the model with its frozen base weights
(``mlnet_ros.model.pretrained``), then copies them in. Loading never unpickles.
"""
from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from mlnet_ros.core.base_weights import BaseWeightsError, base_identity
from mlnet_ros.core.checkpoint_files import CONFIG_FILE, LABELS_FILE, WEIGHTS_FILE, ModelLoadError, check_checkpoint
from mlnet_ros.core.text_inputs import WordPieceTokenizer
from mlnet_ros.model.modeling import MLNetModel
from mlnet_ros.model.pretrained import build_model, load_tokenizer


def save_checkpoint(model: MLNetModel, directory: Path, training: dict | None = None) -> None:
    """Write the three checkpoint files; ``training`` is free-form information recorded in config.json."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    config = json.loads(model.config.to_json())
    document = {"model": config, "base_weights": base_identity(model.config), "training": training or {}}
    (directory / CONFIG_FILE).write_text(json.dumps(document, indent=2) + "\n")
    (directory / LABELS_FILE).write_text(json.dumps(list(model.config.labels)) + "\n")
    tensors = {name: t.to(torch.float16).contiguous() for name, t in model.trainable_state_dict().items()}
    save_file(tensors, str(directory / WEIGHTS_FILE))


def load_checkpoint(directory: Path, expected_preset: str | None = None) -> tuple[MLNetModel, WordPieceTokenizer]:
    """Load (model in eval mode, tokenizer) from a checkpoint directory, or raise ModelLoadError."""
    directory = Path(directory)
    config = check_checkpoint(directory, expected_preset)
    weights_path = directory / WEIGHTS_FILE
    try:
        state = load_file(str(weights_path))
    except (SafetensorError, OSError, ValueError) as error:
        raise ModelLoadError(f"{weights_path}: unreadable safetensors file ({error})") from None
    try:
        model = build_model(config)
        tokenizer = load_tokenizer(config)
    except (BaseWeightsError, OSError) as error:
        raise ModelLoadError(f"{directory / CONFIG_FILE}: base weights unavailable ({error})") from None
    load_trainable(model, state, weights_path)
    model.eval()
    return model, tokenizer


def load_trainable(model: MLNetModel, state: dict[str, torch.Tensor], source: Path) -> None:
    """Copy stored trainable weights into ``model``; any missing, extra or mis-shaped tensor is a ModelLoadError."""
    expected = model.trainable_state_dict()
    missing = sorted(set(expected) - set(state))
    extra = sorted(set(state) - set(expected))
    if missing or extra:
        raise ModelLoadError(f"{source}: weights do not match the config (missing {missing[:3]}, unexpected {extra[:3]})")
    parameters = dict(model.named_parameters())
    with torch.no_grad():
        for name, tensor in state.items():
            if tensor.shape != parameters[name].shape:
                expected = tuple(parameters[name].shape)
                raise ModelLoadError(f"{source}: {name} has shape {tuple(tensor.shape)}, expected {expected}")
            parameters[name].copy_(tensor.float())
    model.crf.pin_forbidden()
