"""Frozen CNN backbones: crops → grid_size x grid_size region features, plus the ImageNet class head (for MVM).

``ImageBackbone(config)`` builds the architecture only; ``mlnet_ros.model.pretrained`` loads its weights.
"""
from __future__ import annotations

import torch
from torch import nn

from mlnet_ros.core.base_weights import BaseWeightsError
from mlnet_ros.core.config import MLNetConfig

RESNETS = ("resnet50", "resnet152")


class EfficientNetFeatures(nn.Module):
    """EfficientNet's feature extractor (its whole network is ``net``, weights load into it)."""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net.extract_features(x)


def efficientnet_lite0() -> nn.Module:
    """EfficientNet-Lite0 with random weights."""
    try:
        from efficientnet_lite_pytorch import EfficientNet
    except ImportError as error:
        raise BaseWeightsError(
            f"image backbone efficientnet-lite0 needs the package efficientnet-lite-pytorch ({error})"
        ) from None
    return EfficientNet.from_name("efficientnet-lite0")


def resnet(name: str) -> nn.Module:
    """A torchvision ResNet with random weights."""
    import torchvision

    return getattr(torchvision.models, name)(weights=None)


class ImageBackbone(nn.Module):
    """Frozen backbone: normalised (N, 3, crop, crop) → (N, C, grid, grid) features; ``classify`` gives ImageNet logits."""

    def __init__(self, config: MLNetConfig):
        super().__init__()
        if config.image_backbone == "efficientnet-lite0":
            net = efficientnet_lite0()
            self.features, self.classifier = EfficientNetFeatures(net), net._fc
        elif config.image_backbone in RESNETS:
            net = resnet(config.image_backbone)
            self.features, self.classifier = nn.Sequential(*list(net.children())[:-2]), net.fc
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
