"""The model calls that tagging and recognition make (``encode_image``, forward), computed by the
exported ONNX graphs on another runtime: tokenisation, windowing and CRF decoding stay shared."""
from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np
import torch

from mlnet_ros.core.config import MLNetConfig
from mlnet_ros.model.modeling import MLNetOutput, TextBatch
from mlnet_ros.inference.onnx_export import IMAGE_GRAPH, TEXT_GRAPH, Export


class NumpyCRF:
    """The CRF parameters recorded at export time, as ``BioCRF.parameters_numpy`` returns them."""

    def __init__(self, parameters: dict[str, list]):
        self._parameters = {name: np.asarray(values, dtype=np.float64) for name, values in parameters.items()}

    def parameters_numpy(self) -> dict[str, np.ndarray]:
        return self._parameters


class GraphModel(ABC):
    """Stands in for ``MLNetModel`` at inference; subclasses implement ``run`` on their runtime."""

    def __init__(self, export: Export):
        self.config = MLNetConfig.from_dict(export.sidecar["config"])
        self.crf = NumpyCRF(export.sidecar["crf"])
        graphs = export.sidecar["graphs"]
        self.output_names = {graph: [output["name"] for output in graphs[graph]["outputs"]] for graph in graphs}

    @abstractmethod
    def run(self, graph: str, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        """Outputs of ``graph`` (IMAGE_GRAPH or TEXT_GRAPH) in the exported order."""

    def eval(self) -> "GraphModel":
        return self

    def parameters(self):
        """Where ``tag_words`` puts its inputs (``next(model.parameters()).device``): CPU tensors."""
        yield torch.empty(0)

    def encode_image(self, crops: torch.Tensor) -> torch.Tensor:
        """(N, s+1, 3, crop, crop) crops in 0..255 → (N, s+1, cells, d) regions."""
        pixels = np.ascontiguousarray(crops.numpy(), dtype=np.float32)
        return torch.from_numpy(self.run(IMAGE_GRAPH, {"crops": pixels})[0])

    def __call__(
        self, text: TextBatch, regions: torch.Tensor | None = None, image_present: torch.Tensor | None = None
    ) -> MLNetOutput:
        """Emissions, matching score, gate and cross-attention, as ``MLNetModel.forward`` in eval mode."""
        batch = text.input_ids.shape[0]
        if regions is None:  # one all-zero crop, gate closed: the text-only emissions
            pixels = np.zeros((batch, 1, self.config.cells_per_crop, self.config.text_hidden), dtype=np.float32)
            present = np.zeros(batch, dtype=bool)
        else:
            pixels = np.ascontiguousarray(regions.numpy(), dtype=np.float32)
            present = np.ones(batch, dtype=bool) if image_present is None else image_present.numpy().astype(bool)
        emissions, score, gate, attention = self.run(
            TEXT_GRAPH,
            {
                "input_ids": text.input_ids.numpy(),
                "attention_mask": text.attention_mask.numpy(),
                "word_starts": text.word_starts.numpy(),
                "word_mask": text.word_mask.numpy(),
                "char_ids": text.char_ids.numpy(),
                "regions": pixels,
                "image_present": present,
            },
        )
        return MLNetOutput(
            torch.from_numpy(emissions),
            torch.from_numpy(score),
            torch.from_numpy(gate),
            None if regions is None else torch.from_numpy(attention),
        )
