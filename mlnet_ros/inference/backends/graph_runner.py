"""The runner of an ONNX export (see ``mlnet_ros.inference.export_format``): the feeds and outputs of
its two graphs, computed by a runtime's executor (onnxruntime sessions or TensorRT engines)."""
from __future__ import annotations

from typing import Protocol

import numpy as np

from mlnet_ros.core.text_inputs import WindowBatch
from mlnet_ros.inference.crf_decoding import CRFParameters
from mlnet_ros.inference.export_format import IMAGE_GRAPH, TEXT_GRAPH, Export
from mlnet_ros.inference.runner import TextOutputs


class GraphExecutor(Protocol):
    def run(self, graph: str, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        """Outputs of ``graph`` (IMAGE_GRAPH or TEXT_GRAPH) in the exported order."""


class GraphRunner:
    """Model config and CRF parameters from the export's sidecar; both model parts by ``executor``."""

    def __init__(self, export: Export, executor: GraphExecutor):
        self.config = export.config()
        self.crf = CRFParameters.from_dict(export.sidecar["crf"])
        self.executor = executor
        self.text_only_cells = export.text_only_cells()

    def encode_crops(self, crops: np.ndarray) -> np.ndarray:
        return self.executor.run(IMAGE_GRAPH, {"crops": np.ascontiguousarray(crops, dtype=np.float32)})[0]

    def run_text(self, batch: WindowBatch, regions: np.ndarray | None) -> TextOutputs:
        rows = len(batch.input_ids)
        text_only = regions is None
        if text_only:  # one all-zero region, gate closed: the text-only emissions
            regions = np.zeros((rows, 1, self.text_only_cells, self.config.text_hidden), dtype=np.float32)
        present = np.full(rows, not text_only)
        emissions, score, gate, attention = self.executor.run(
            TEXT_GRAPH,
            {
                "input_ids": batch.input_ids,
                "attention_mask": batch.attention_mask,
                "word_starts": batch.word_starts,
                "word_mask": batch.word_mask,
                "char_ids": batch.char_ids,
                "regions": np.ascontiguousarray(regions, dtype=np.float32),
                "image_present": present,
            },
        )
        return TextOutputs(emissions, score, gate, None if text_only else attention)
