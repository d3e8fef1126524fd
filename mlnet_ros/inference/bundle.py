"""Deploy bundles (torch-free): one self-contained directory that the onnxruntime and TensorRT backends
load without the checkpoint, torch, transformers or the base-weights packages.

- ``config.json``, ``labels.json``: the checkpoint's, copied.
- ``tokenizer.json``: the text encoder's tokenizer (``tokenizers`` library format).
- ``image.onnx``, ``text.onnx``: the export's graphs (``text.onnx`` int8 in an ``--int8`` bundle).
- ``export.json``: the export sidecar (``mlnet_ros.inference.export_format``: opset, source checkpoint
  and its sha256, config, CRF parameters, graphs) plus ``files`` (the sha256 of every other file)
  and ``quantization`` (null, or how ``text.onnx`` was quantized).

``mlnet_export --model CHECKPOINT --out BUNDLE [--int8]`` writes one (``mlnet_ros.inference.bundle_export``).
Nothing is handed to a runtime before ``verify_bundle`` has checked every file.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from mlnet_ros.core.checkpoint_files import CONFIG_FILE, LABELS_FILE, WEIGHTS_FILE, ModelLoadError, check_labels, read_config
from mlnet_ros.core.config import MLNetConfig
from mlnet_ros.inference.export_format import GRAPHS, SIDECAR, Export, sha256_file

TOKENIZER_FILE = "tokenizer.json"
BUNDLE_FILES = (CONFIG_FILE, LABELS_FILE, TOKENIZER_FILE, *GRAPHS)
# ONNX opsets this runtime reads (onnxruntime >= 1.18 runs opset 21; the exporter writes 18).
SUPPORTED_OPSETS = range(13, 22)


def is_bundle(directory: Path) -> bool:
    """A directory with an ``export.json`` and no checkpoint weights is a deploy bundle."""
    directory = Path(directory)
    return (directory / SIDECAR).is_file() and not (directory / WEIGHTS_FILE).is_file()


def bundle_cache_dir(directory: Path, sidecar_text: str) -> Path:
    """Where files derived from the bundle go: the bundle itself when writable, else
    ``$XDG_CACHE_HOME/mlnet_ros/bundle-<sha256 of export.json>``."""
    if os.access(directory, os.W_OK):
        return directory
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "mlnet_ros" / f"bundle-{hashlib.sha256(sidecar_text.encode()).hexdigest()}"


def verify_bundle(directory: Path) -> Export:
    """The bundle in ``directory`` as a verified Export, or ModelLoadError naming the file at fault:
    an unreadable ``export.json``, an opset outside SUPPORTED_OPSETS, a missing file, a file whose
    sha256 differs from ``export.json`` (truncated, altered, from another bundle), or a
    ``config.json`` or ``labels.json`` that is not the exported model's."""
    directory = Path(directory)
    path = directory / SIDECAR
    try:
        text = path.read_text()
        sidecar = json.loads(text)
        files, opset, exported_config = sidecar["files"], sidecar["opset"], sidecar["config"]
        hashes = {**files, **{graph: sidecar["graphs"][graph]["sha256"] for graph in GRAPHS}}
    except (OSError, UnicodeDecodeError) as error:
        raise ModelLoadError(f"{path}: unreadable ({error})") from None
    except (json.JSONDecodeError, KeyError, TypeError) as error:
        raise ModelLoadError(f"{path}: not a deploy bundle's export.json ({type(error).__name__}: {error})") from None
    if opset not in SUPPORTED_OPSETS:
        raise ModelLoadError(
            f"{path}: ONNX opset {opset!r} is not one this runtime reads "
            f"({SUPPORTED_OPSETS.start}-{SUPPORTED_OPSETS.stop - 1}); export the bundle again"
        )
    for filename in BUNDLE_FILES:
        file = directory / filename
        if not file.is_file():
            raise ModelLoadError(f"{file}: missing from the bundle")
        if filename not in hashes:
            raise ModelLoadError(f"{path}: records no sha256 of {filename}")
        if sha256_file(file) != hashes[filename]:
            raise ModelLoadError(f"{file}: sha256 differs from {SIDECAR} (truncated, altered or from another bundle)")
    config, _ = read_config(directory)
    if config != MLNetConfig.from_dict(exported_config):
        raise ModelLoadError(f"{directory / CONFIG_FILE}: not the model {SIDECAR} was exported from")
    check_labels(directory, config)
    return Export(directory, sidecar, bundle_cache_dir(directory, text))
