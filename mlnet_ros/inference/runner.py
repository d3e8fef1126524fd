"""What a backend provides to the recognition pipeline: a runner computing the model's two parts on
numpy arrays. Tokenisation, windowing, CRF decoding and entity building are shared
(``mlnet_ros.inference.pipeline``); only a runner differs between backends."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from mlnet_ros.core.config import MLNetConfig
from mlnet_ros.core.text_inputs import WindowBatch
from mlnet_ros.inference.crf_decoding import CRFParameters


@dataclass
class TextOutputs:
    """The text part's outputs for a batch of windows (the model's forward pass in eval mode)."""

    emissions: np.ndarray  # (B, W, num_labels)
    match_score: np.ndarray  # (B,) image–text matching probability; 0 where no image
    gate: np.ndarray  # (B,) 1 where the matching gate let the image in
    attention: np.ndarray | None  # (B, W, regions) cross-attention of each word; None without image


class Runner(Protocol):
    """The model's compute on one backend."""

    config: MLNetConfig
    crf: CRFParameters

    def encode_crops(self, crops: np.ndarray) -> np.ndarray:
        """Part (a): (N, s+1, 3, crop, crop) float32 crops in 0..255 → (N, s+1, cells, d) float32 regions."""

    def run_text(self, batch: WindowBatch, regions: np.ndarray | None) -> TextOutputs:
        """Part (b): emissions etc. of ``batch``, with (B, s+1, cells, d) ``regions`` or text only (None)."""
