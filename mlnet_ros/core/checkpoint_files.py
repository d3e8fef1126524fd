"""Checkpoint directories: ``config.json`` + ``labels.json`` + ``model.safetensors`` (trainable weights, fp16).

Frozen base weights (text-encoder embeddings and lower layers, the image backbone) are not stored:
they come from the base packages (or local paths) recorded in ``config.json``. This module reads
and checks the files without torch; ``mlnet_ros.model.checkpoint`` loads the weights.
"""
from __future__ import annotations

import json
from pathlib import Path

from mlnet_ros.core.base_weights import BaseWeightsError, package_version
from mlnet_ros.core.config import MLNetConfig

CONFIG_FILE = "config.json"
LABELS_FILE = "labels.json"
WEIGHTS_FILE = "model.safetensors"


class ModelLoadError(ValueError):
    """A model directory cannot be loaded; the message is one line naming the file and the problem."""


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


def check_labels(directory: Path, config: MLNetConfig) -> None:
    """ModelLoadError unless ``labels.json`` holds the config's label set."""
    path = Path(directory) / LABELS_FILE
    try:
        labels = tuple(json.loads(path.read_text()))
    except FileNotFoundError:
        raise ModelLoadError(f"{path}: missing") from None
    except (json.JSONDecodeError, TypeError) as error:
        raise ModelLoadError(f"{path}: not a JSON label list ({error})") from None
    if labels != config.labels:
        raise ModelLoadError(f"{path}: label set {list(labels)} differs from the model's {list(config.labels)}")


def check_base_versions(directory: Path, document: dict) -> None:
    """ModelLoadError unless every base package the checkpoint was trained on is installed at that version."""
    for package, version in document.get("base_weights", {}).items():
        if version == "local path":
            continue
        try:
            installed = package_version(package)
        except BaseWeightsError as error:
            raise ModelLoadError(f"{Path(directory) / CONFIG_FILE}: {error}") from None
        if installed != version:
            raise ModelLoadError(
                f"{Path(directory) / CONFIG_FILE}: trained on base package {package}=={version}, installed {installed}"
            )


def check_checkpoint(directory: Path, expected_preset: str | None = None) -> MLNetConfig:
    """The config of a complete, consistent checkpoint directory (weights file present), or ModelLoadError."""
    directory = Path(directory)
    config, document = read_config(directory)
    if expected_preset is not None and config.preset != expected_preset:
        raise ModelLoadError(
            f"{directory / CONFIG_FILE}: checkpoint of preset {config.preset!r}, expected {expected_preset!r}"
        )
    check_labels(directory, config)
    check_base_versions(directory, document)
    if not (directory / WEIGHTS_FILE).is_file():
        raise ModelLoadError(f"{directory / WEIGHTS_FILE}: missing")
    return config
