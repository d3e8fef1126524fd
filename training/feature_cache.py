"""On-disk cache of the frozen backbone's crop features, one safetensors file per image.

The key hashes the image file's bytes with everything that determines its features: the backbone
(architecture, weights — a package version or the weights file's content — and normalisation),
the region proposer and the crop count. Runs, epochs and ranks that share a cache directory
compute each image once. Files are written atomically; an unreadable entry is recomputed.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from functools import cache
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from mlnet_ros.core.base_weights import package_version
from mlnet_ros.core.config import MLNetConfig
from mlnet_ros.inference.export_format import sha256_file

FORMAT = 1  # bump when the stored content changes


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/mlnet_ros/features`` (``~/.cache/mlnet_ros/features``)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "mlnet_ros" / "features"


@cache
def file_digest(path: str, size: int, mtime_ns: int) -> str:
    """SHA-256 of a file's content (memoised per path, size and modification time)."""
    return sha256_file(Path(path))


def weights_identity(source: str) -> str:
    """A base-weights source as it matters for the features: package==version, or the file's SHA-256."""
    if source.startswith("package:"):
        package = source.removeprefix("package:")
        return f"{package}=={package_version(package)}"
    stat = os.stat(source)
    return "sha256:" + file_digest(str(Path(source).resolve()), stat.st_size, stat.st_mtime_ns)


class FeatureCache:
    """Features of one backbone + proposer + crop count, by image bytes."""

    def __init__(self, directory: Path, config: MLNetConfig, proposer: str):
        self.directory = Path(directory)
        identity = {"format": FORMAT, "backbone": config.image_backbone, "crop_size": config.crop_size,
                    "weights": weights_identity(config.image_backbone_weights), "mean": list(config.image_mean),
                    "std": list(config.image_std), "crops": config.num_crops, "proposer": proposer}
        self.identity = json.dumps(identity, sort_keys=True).encode()

    def key(self, image_bytes: bytes) -> str:
        return hashlib.sha256(self.identity + hashlib.sha256(image_bytes).digest()).hexdigest()

    def _path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.safetensors"

    def load(self, key: str) -> dict[str, torch.Tensor] | None:
        """The stored tensors (``features``: (s+1, C, grid, grid) float16, and any others), or None."""
        path = self._path(key)
        if not path.is_file():
            return None
        try:
            return load_file(str(path))
        except (SafetensorError, OSError, ValueError):
            return None

    def store(self, key: str, tensors: dict[str, torch.Tensor]) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".partial")
        os.close(handle)
        try:
            save_file({name: t.contiguous() for name, t in tensors.items()}, temporary)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
