"""Checkpoint directories: ``config.json`` + ``labels.json`` + ``model.safetensors`` (trainable weights, fp16).

Frozen base weights (text-encoder embeddings and lower layers, the image backbone) are not stored:
they are loaded from the base packages (or local paths) recorded in ``config.json``.
Loading never unpickles.
"""
from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from transformers import AutoTokenizer

from mlnet_ros.core.config import MLNetConfig
from mlnet_ros.model.backbone import BaseWeightsError
from mlnet_ros.model.modeling import MLNetModel, base_identity, package_version, text_encoder_dir

CONFIG_FILE = "config.json"
LABELS_FILE = "labels.json"
WEIGHTS_FILE = "model.safetensors"


class ModelLoadError(ValueError):
    """A model directory cannot be loaded; the message is one line naming the file and the problem."""


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


def read_config(directory: Path) -> tuple[MLNetConfig, dict]:
    """The MLNetConfig and the whole config.json document of a checkpoint directory."""
    directory = Path(directory)
    path = directory / CONFIG_FILE
    if not directory.is_dir():
        raise ModelLoadError(f"{directory}: model directory does not exist")
    try:
        document = json.loads(path.read_text())
        return MLNetConfig.from_dict(document["model"]), document
    except FileNotFoundError:
        raise ModelLoadError(f"{path}: missing") from None
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as error:
        raise ModelLoadError(f"{path}: not an MLNet config ({error})") from None


def load_checkpoint(directory: Path, expected_preset: str | None = None) -> tuple[MLNetModel, object]:
    """Load (model in eval mode, tokenizer) from a checkpoint directory, or raise ModelLoadError."""
    directory = Path(directory)
    config, document = read_config(directory)
    if expected_preset is not None and config.preset != expected_preset:
        raise ModelLoadError(
            f"{directory / CONFIG_FILE}: checkpoint of preset {config.preset!r}, expected {expected_preset!r}"
        )
    labels_path = directory / LABELS_FILE
    try:
        labels = tuple(json.loads(labels_path.read_text()))
    except FileNotFoundError:
        raise ModelLoadError(f"{labels_path}: missing") from None
    except (json.JSONDecodeError, TypeError) as error:
        raise ModelLoadError(f"{labels_path}: not a JSON label list ({error})") from None
    if labels != config.labels:
        raise ModelLoadError(f"{labels_path}: label set {list(labels)} differs from the model's {list(config.labels)}")
    for package, version in document.get("base_weights", {}).items():
        if version == "local path":
            continue
        try:
            installed = package_version(package)
        except BaseWeightsError as error:
            raise ModelLoadError(f"{directory / CONFIG_FILE}: {error}") from None
        if installed != version:
            raise ModelLoadError(
                f"{directory / CONFIG_FILE}: trained on base package {package}=={version}, installed {installed}"
            )
    weights_path = directory / WEIGHTS_FILE
    if not weights_path.is_file():
        raise ModelLoadError(f"{weights_path}: missing")
    try:
        state = load_file(str(weights_path))
    except (SafetensorError, OSError, ValueError) as error:
        raise ModelLoadError(f"{weights_path}: unreadable safetensors file ({error})") from None
    try:
        model = MLNetModel(config)
        tokenizer = AutoTokenizer.from_pretrained(text_encoder_dir(config), local_files_only=True)
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
                raise ModelLoadError(f"{source}: {name} has shape {tuple(tensor.shape)}, expected {tuple(parameters[name].shape)}")
            parameters[name].copy_(tensor.float())
    model.crf.pin_forbidden()
