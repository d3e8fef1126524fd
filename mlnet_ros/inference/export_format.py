"""The ONNX export directory (torch-free): two graphs and the JSON sidecar that describes them.

- ``image.onnx``: crops (images, s+1, 3, crop, crop) float32 in 0..255 → regions (images, s+1, cells, d).
- ``text.onnx``: wordpieces, words, chars, regions, image_present → emissions, match score, gate,
  cross-attention. Text-only inputs pass one all-zero region (one crop of one cell) with ``image_present``
  False: the gate stays closed and the emissions equal the model's text-only emissions.
- ``export.json``: opset, source checkpoint and its sha256, the model config, the CRF parameters
  (decoding stays in numpy) and each graph's sha256, inputs and outputs.

``mlnet_ros.inference.onnx_export`` writes exports; runtimes only read them, after ``verify_export``.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from mlnet_ros.core.checkpoint_files import WEIGHTS_FILE, ModelLoadError
from mlnet_ros.core.config import MLNetConfig

SIDECAR = "export.json"
IMAGE_GRAPH = "image.onnx"
TEXT_GRAPH = "text.onnx"
GRAPHS = (IMAGE_GRAPH, TEXT_GRAPH)
IMAGE_INPUTS = ("crops",)
IMAGE_OUTPUTS = ("regions",)
TEXT_INPUTS = ("input_ids", "attention_mask", "word_starts", "word_mask", "char_ids", "regions", "image_present")
TEXT_OUTPUTS = ("emissions", "match_score", "gate", "attention")
# Named dynamic axes of every graph input and output (the other axes are fixed by the config).
DYNAMIC_AXES = {
    IMAGE_GRAPH: {"crops": {0: "images"}, "regions": {0: "images"}},
    TEXT_GRAPH: {
        "input_ids": {0: "batch", 1: "pieces"},
        "attention_mask": {0: "batch", 1: "pieces"},
        "word_starts": {0: "batch", 1: "words"},
        "word_mask": {0: "batch", 1: "words"},
        "char_ids": {0: "batch", 1: "words", 2: "chars"},
        "regions": {0: "batch", 1: "crops", 2: "cells"},
        "image_present": {0: "batch"},
        "emissions": {0: "batch", 1: "words"},
        "match_score": {0: "batch"},
        "gate": {0: "batch"},
        "attention": {0: "batch", 1: "words", 2: "regions"},
    },
}


class ExportError(RuntimeError):
    """An export is missing, stale (another checkpoint) or damaged; the message names the file."""


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def checkpoint_hash(model_dir: Path) -> str:
    """sha256 of the checkpoint's ``model.safetensors``: the identity of a trained model."""
    path = Path(model_dir) / WEIGHTS_FILE
    if not path.is_file():
        raise ModelLoadError(f"{path}: missing")
    return sha256_file(path)


def default_export_dir(model_dir: Path) -> Path:
    """``$XDG_CACHE_HOME/mlnet_ros/<checkpoint sha256>`` (``~/.cache`` when unset): model dirs may be read-only."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "mlnet_ros" / checkpoint_hash(model_dir)


@dataclass(frozen=True)
class Export:
    """A verified export: its directory and sidecar, and where files derived from it (TensorRT engines,
    fp16 graphs) go: ``cache`` for a read-only deploy bundle, else the export's own directory."""

    directory: Path
    sidecar: dict
    cache: Path | None = None

    def derived_dir(self, name: str) -> Path:
        """The directory for derived files ``name`` (``tensorrt``, ``fp16``)."""
        return (self.cache or self.directory) / name

    def graph(self, filename: str) -> Path:
        return self.directory / filename

    def config(self) -> MLNetConfig:
        """The configuration of the exported model."""
        return MLNetConfig.from_dict(self.sidecar["config"])

    def text_only_cells(self) -> int:
        """Regions a text-only call passes: 1 where the text graph's cell axis is dynamic (exports since
        2026-12-03: the cross-attention then costs nothing), else the fixed cells per crop."""
        regions = next(i for i in self.sidecar["graphs"][TEXT_GRAPH]["inputs"] if i["name"] == "regions")
        return 1 if isinstance(regions["shape"][2], str) else self.config().cells_per_crop

    def int8(self) -> bool:
        """Whether the text graph was quantized (an ``--int8`` deploy bundle: onnxruntime's MatMulNBits)."""
        return bool(self.sidecar.get("quantization"))

    def output_names(self, filename: str) -> list[str]:
        """The outputs of graph ``filename`` in their exported order."""
        return [output["name"] for output in self.sidecar["graphs"][filename]["outputs"]]


def verify_export(directory: Path, source_hash: str) -> Export:
    """The export in ``directory`` if its sidecar names checkpoint ``source_hash`` and every graph's
    sha256 matches the sidecar; else ExportError (nothing is handed to a runtime before this check)."""
    directory = Path(directory)
    path = directory / SIDECAR
    try:
        sidecar = json.loads(path.read_text())
        recorded, graphs = sidecar["checkpoint_sha256"], sidecar["graphs"]
    except FileNotFoundError:
        raise ExportError(f"{path}: missing (no export in {directory})") from None
    except (json.JSONDecodeError, KeyError, TypeError) as error:
        raise ExportError(f"{path}: not an export sidecar ({error})") from None
    if recorded != source_hash:
        raise ExportError(f"{path}: exported from checkpoint {recorded[:12]}, not {source_hash[:12]}")
    for filename in GRAPHS:
        graph_path = directory / filename
        if not graph_path.is_file():
            raise ExportError(f"{graph_path}: missing")
        if sha256_file(graph_path) != graphs.get(filename, {}).get("sha256"):
            raise ExportError(f"{graph_path}: sha256 differs from {SIDECAR} (damaged or replaced file)")
    return Export(directory, sidecar)
