"""``TorchRecognizer``'s pre- and post-processing around a ``GraphModel`` (onnxruntime or TensorRT)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from transformers import AutoTokenizer

from mlnet_ros.inference.backends import BackendUnavailable
from mlnet_ros.inference.backends.graph_model import GraphModel
from mlnet_ros.model.checkpoint import ModelLoadError, read_config
from mlnet_ros.model.modeling import text_encoder_dir
from mlnet_ros.inference.onnx_export import (
    Export, ExportError, checkpoint_hash, default_export_dir, ensure_export, verify_export,
)
from mlnet_ros.inference.pipeline import TorchRecognizer
from mlnet_ros.inference.region_proposals import RegionProposer


def verified_export(model_dir: Path, export_if_missing: bool) -> Export:
    """The checkpoint's verified ONNX export from the cache; when it is missing or stale, exported
    first (``export_if_missing``) or BackendUnavailable.

    Raises ModelLoadError for an unusable model directory, BackendUnavailable when the export fails.
    """
    read_config(model_dir)  # a missing or malformed model directory is a ModelLoadError, as for torch
    if not export_if_missing:
        try:
            return verify_export(default_export_dir(model_dir), checkpoint_hash(model_dir))
        except ExportError as error:
            raise BackendUnavailable(
                f"no usable ONNX export yet ({error}); run: python -m mlnet_ros.inference.onnx_export --model {model_dir}"
            ) from None
    try:
        return ensure_export(model_dir)
    except ModelLoadError:
        raise
    except Exception as error:  # torch.export / onnx failures have no common base class
        raise BackendUnavailable(f"ONNX export of {model_dir} failed: {type(error).__name__}: {error}") from error


class GraphRecognizer(TorchRecognizer):
    """A TorchRecognizer whose tensor compute is ``model``; inputs and outputs cross as CPU tensors."""

    def __init__(self, model_dir: Path, model: GraphModel, backend: str, proposer: RegionProposer | None = None):
        tokenizer = AutoTokenizer.from_pretrained(text_encoder_dir(model.config), local_files_only=True)
        self._attach(model, tokenizer, model_dir, "cpu", proposer)
        self.backend = backend

    def warm_up(self) -> None:
        """One text-only and one image inference (allocations, kernel selection) before serving."""
        image = self.encode_image(np.zeros((224, 224, 3), dtype=np.uint8))
        self.recognize("warm up", image)
        self.recognize("warm up")
