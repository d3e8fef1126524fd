"""The torch runner: an in-memory ``MLNetModel`` on a device (the torch backend, and training's predictions)."""
from __future__ import annotations

import numpy as np
import torch

from mlnet_ros.core.text_inputs import WindowBatch
from mlnet_ros.inference.crf_decoding import CRFParameters
from mlnet_ros.inference.runner import TextOutputs
from mlnet_ros.model.modeling import MLNetModel, TextBatch


def _numpy(tensor: torch.Tensor) -> np.ndarray:
    return tensor.float().cpu().numpy()


class TorchRunner:
    """Runs ``model`` in eval mode on ``device`` (where the model must already be); arrays cross as CPU numpy."""

    def __init__(self, model: MLNetModel, device: str | torch.device = "cpu"):
        self.model = model.eval()
        self.device = torch.device(device)
        self.config = model.config
        self.crf = CRFParameters.from_dict(model.crf.parameters_numpy())

    @torch.inference_mode()
    def encode_crops(self, crops: np.ndarray) -> np.ndarray:
        return _numpy(self.model.encode_image(torch.from_numpy(crops).to(self.device)))

    @torch.inference_mode()
    def run_text(self, batch: WindowBatch, regions: np.ndarray | None) -> TextOutputs:
        text = TextBatch.from_arrays(batch).to(self.device)
        image = None if regions is None else torch.from_numpy(regions).to(self.device)
        out = self.model(text, image)
        return TextOutputs(
            _numpy(out.emissions),
            _numpy(out.match_score),
            _numpy(out.gate),
            None if out.attention is None else _numpy(out.attention),
        )
